"""Enterprises screened before they resume work: a point or a polygon with its kind, village,
responsible person and staff counts (total, local, and from each risk area). An enterprise's
state is its latest review's decision (`enterprise_reviews`), else `pending`. Scope is a list
of village ids (None: the town)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geodata.identifiers import identifier_problem
from geodata.records import risk_areas
from geodata.records.placed import Where, locate
from geodata.records.refusal import RecordRefused

KINDS = ("factory", "construction", "logistics", "retail", "catering", "office", "farm", "other")
STATES = ("approved", "conditional", "refused", "pending")
GEOMETRIES = ("Point", "Polygon", "MultiPolygon")

LATEST = """LEFT JOIN LATERAL (SELECT r.decision, r.reviewed_on FROM enterprise_reviews AS r
    WHERE r.enterprise_id = e.id ORDER BY r.reviewed_on DESC, r.id DESC LIMIT 1) AS last ON true"""
"""The latest review of each enterprise `e` (by day, then as recorded)."""
STATE = "coalesce(last.decision, 'pending')"


@dataclass(frozen=True, kw_only=True)
class EnterpriseFields:
    name: str
    kind: str
    responsible: str
    staff_total: int | None
    staff_local: int | None = 0
    risk_staff: dict[str, int] = field(default_factory=dict)
    where: Where = field(default_factory=Where)


def parse_risk_staff(record: str, value: str | list[str] | None) -> dict[str, int]:
    """`WH:12;HB:3` (or a list of `WH:12`): staff per risk area code."""
    parts = value if isinstance(value, list) else (value or "").split(";")
    found: dict[str, int] = {}
    for part in (p.strip() for p in parts):
        if not part:
            continue
        code, sep, count = part.rpartition(":")
        if not sep or not code.strip():
            raise RecordRefused(f"{record}: risk_staff: {part!r}: write CODE:COUNT")
        try:
            n = int(count)
        except ValueError:
            raise RecordRefused(f"{record}: risk_staff: {part!r}: not a whole number") from None
        if n <= 0:
            raise RecordRefused(f"{record}: risk_staff: {part!r}: must be more than 0")
        if code.strip() in found:
            raise RecordRefused(f"{record}: risk_staff: {code.strip()!r}: given twice")
        found[code.strip()] = n
    return found


def _checked(conn: Connection, source_id: str, f: EnterpriseFields) -> dict[str, Any]:
    """The row to write, every field checked; refusals name the enterprise, field, reason."""
    record = f"enterprise {source_id!r}"
    problem = identifier_problem(source_id)
    if problem is not None or len(source_id) > 128:
        raise RecordRefused(f"enterprise: source_id: {problem or 'at most 128 characters'}")
    if not f.name.strip():
        raise RecordRefused(f"{record}: name: empty")
    if f.kind not in KINDS:
        raise RecordRefused(f"{record}: kind: {f.kind!r}: one of {', '.join(KINDS)}")
    if not f.responsible.strip():
        raise RecordRefused(f"{record}: responsible: empty (the person responsible)")
    if f.staff_total is None:
        raise RecordRefused(f"{record}: staff_total: required")
    local = f.staff_local or 0
    if f.staff_total < 0:
        raise RecordRefused(f"{record}: staff_total: {f.staff_total}: must be 0 or more")
    if not 0 <= local <= f.staff_total:
        raise RecordRefused(f"{record}: staff_local: {local}: between 0 and staff_total")
    from_risk = sum(f.risk_staff.values())
    if from_risk > f.staff_total:
        raise RecordRefused(
            f"{record}: risk_staff: {from_risk} from risk areas, more than staff_total"
        )
    areas = risk_areas.ids_by_code(conn, sorted(f.risk_staff), record)
    ewkt, village_id = locate(conn, record, f.where, kinds=GEOMETRIES)
    return {
        "s": source_id, "n": f.name.strip(), "k": f.kind, "v": village_id,
        "r": f.responsible.strip(), "t": f.staff_total, "l": local, "g": ewkt,
        "risk": {areas[code]: n for code, n in f.risk_staff.items()},
    }  # fmt: skip


def _write_risk(conn: Connection, enterprise_id: int, risk: dict[int, int]) -> bool:
    """Replace the enterprise's staff per risk area; whether anything changed."""
    before: dict[int, int] = dict(
        conn.execute(
            text("SELECT risk_area_id, staff FROM enterprise_risk_staff WHERE enterprise_id = :e"),
            {"e": enterprise_id},
        ).all()
    )
    if before == risk:
        return False
    conn.execute(
        text("DELETE FROM enterprise_risk_staff WHERE enterprise_id = :e"), {"e": enterprise_id}
    )
    for area, n in sorted(risk.items()):
        conn.execute(
            text(
                "INSERT INTO enterprise_risk_staff (enterprise_id, risk_area_id, staff)"
                " VALUES (:e, :a, :n)"
            ),
            {"e": enterprise_id, "a": area, "n": n},
        )
    return True


def upsert(conn: Connection, source_id: str, f: EnterpriseFields) -> tuple[str, int]:
    """Insert or update by source id: ('inserted' | 'updated' | 'unchanged', id)."""
    row = _checked(conn, source_id, f)
    risk = row.pop("risk")
    existing = conn.execute(
        text("SELECT id FROM enterprises WHERE source_id = :s"), {"s": source_id}
    ).scalar_one_or_none()
    if existing is None:
        new = conn.execute(
            text(
                "INSERT INTO enterprises (source_id, name, kind, village_id, responsible,"
                " staff_total, staff_local, geom) VALUES (:s, :n, :k, :v, :r, :t, :l,"
                " ST_GeomFromEWKT(:g)) RETURNING id"
            ),
            row,
        ).scalar_one()
        _write_risk(conn, int(new), risk)
        return "inserted", int(new)
    changed = conn.execute(
        text(
            "UPDATE enterprises SET name = :n, kind = :k, village_id = :v, responsible = :r,"
            " staff_total = :t, staff_local = :l, geom = ST_GeomFromEWKT(:g), updated_at = now()"
            " WHERE id = :i AND ((name, kind, village_id, responsible, staff_total, staff_local)"
            " IS DISTINCT FROM (:n, :k, CAST(:v AS bigint), :r, CAST(:t AS integer),"
            " CAST(:l AS integer)) OR NOT ST_Equals(geom, ST_GeomFromEWKT(:g))"
            " OR GeometryType(geom) <> GeometryType(ST_GeomFromEWKT(:g))) RETURNING id"
        ),
        {**row, "i": existing},
    ).scalar_one_or_none()
    risk_changed = _write_risk(conn, int(existing), risk)
    return ("updated" if changed is not None or risk_changed else "unchanged"), int(existing)


def add(conn: Connection, source_id: str, f: EnterpriseFields) -> int:
    """A new enterprise; refused when the source id is taken."""
    if conn.execute(
        text("SELECT 1 FROM enterprises WHERE source_id = :s"), {"s": source_id}
    ).first():
        raise RecordRefused(f"enterprise {source_id!r}: source_id: exists already")
    return upsert(conn, source_id, f)[1]


def ref(conn: Connection, source_id: str, record: str) -> Any:
    """id, village_id, state and the latest review's day of an enterprise, or refused."""
    row = conn.execute(
        text(
            f"SELECT e.id, e.source_id, e.village_id, {STATE} AS state,"  # noqa: S608 (constants of this module; values are bound)
            f" last.reviewed_on FROM enterprises AS e {LATEST} WHERE e.source_id = :s"
        ),
        {"s": source_id},
    ).one_or_none()
    if row is None:
        raise RecordRefused(f"{record}: enterprise: {source_id!r}: no such enterprise")
    return row


def _scope(villages: list[int] | None) -> str:
    return "TRUE" if villages is None else "e.village_id = ANY(:villages)"


def listed(
    conn: Connection, villages: list[int] | None, *, state: str | None = None
) -> list[dict[str, Any]]:
    """The enterprises in scope with their state, staff counts and where they are."""
    rows = conn.execute(
        text(
            f"SELECT e.source_id, e.name, e.kind, v.code AS village, e.responsible,"  # noqa: S608 (constants of this module; values are bound)
            " e.staff_total, e.staff_local, GeometryType(e.geom) AS geometry,"
            " ST_X(ST_PointOnSurface(e.geom)) AS lon, ST_Y(ST_PointOnSurface(e.geom)) AS lat,"
            f" {STATE} AS state, last.reviewed_on,"
            " (SELECT coalesce(json_object_agg(a.code, rs.staff ORDER BY a.code), '{}')"
            " FROM enterprise_risk_staff AS rs JOIN risk_areas AS a ON a.id = rs.risk_area_id"
            " WHERE rs.enterprise_id = e.id) AS risk_staff"
            f" FROM enterprises AS e JOIN villages AS v ON v.id = e.village_id {LATEST}"
            f" WHERE {_scope(villages)} AND (CAST(:state AS text) IS NULL OR {STATE} = :state)"
            " ORDER BY e.source_id"
        ),
        {"villages": villages, "state": state},
    ).mappings()
    return [
        {
            "enterprise": r["source_id"],
            "source_id": r["source_id"],
            "name": r["name"],
            "kind": r["kind"],
            "village": r["village"],
            "responsible": r["responsible"],
            "staff_total": r["staff_total"],
            "staff_local": r["staff_local"],
            "risk_staff": dict(r["risk_staff"]),
            "state": r["state"],
            "reviewed_on": None if r["reviewed_on"] is None else r["reviewed_on"].isoformat(),
            "geometry": r["geometry"].title().replace("polygon", "Polygon"),
            "lon": r["lon"],
            "lat": r["lat"],
        }
        for r in rows
    ]


def counts(
    conn: Connection, villages: list[int] | None, *, on: date | None = None
) -> dict[str, int]:
    """Enterprises per state in scope: the latest review by the end of day `on` (None: any)."""
    found: dict[str, int] = dict(
        conn.execute(
            text(
                "SELECT coalesce(last.decision, 'pending') AS state, count(*)"  # noqa: S608 (constants of this module; values are bound)
                " FROM enterprises AS e LEFT JOIN LATERAL (SELECT r.decision"
                " FROM enterprise_reviews AS r WHERE r.enterprise_id = e.id"
                " AND (CAST(:on AS date) IS NULL OR r.reviewed_on <= :on)"
                " ORDER BY r.reviewed_on DESC, r.id DESC LIMIT 1) AS last ON true"
                f" WHERE {_scope(villages)} GROUP BY 1"
            ),
            {"villages": villages, "on": on},
        ).all()
    )
    return {s: int(found.get(s, 0)) for s in STATES}
