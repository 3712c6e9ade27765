"""The `disinfection-places` and `disinfection-rounds` layers: CSV files, all or nothing.

Places are upserted by source id (a changed place is updated). Rounds are a log: a round
already imported with the same content is unchanged, with other content refused; a round
dated in the future is refused. Every failing row is named by line, field and reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.imports.csv_records import read_rows
from geodata.imports.report import ImportReport, Issue
from geodata.records import disinfection as records
from geodata.records.refusal import RecordRefused

PLACES = "disinfection-places"
ROUNDS = "disinfection-rounds"
PLACE_FIELDS = {
    "source_id": "text, required: the place's key",
    "name": "text, required",
    "kind": f"one of {', '.join(records.KINDS)}, required",
    "rounds_per_day": "a whole number from 1 to 48, required",
    "village": "a village code (or source id)",
    "checkpoint": "a checkpoint's source id, when the place is a checkpoint (its position)",
    "lon": "WGS84 longitude (with lat)",
    "lat": "WGS84 latitude (with lon)",
}
ROUND_FIELDS = {
    "source_id": "text, required: the round's key",
    "place": "a place's source id, required",
    "at": "ISO 8601 with an offset, not in the future, required",
    "by": "the staff source id of who disinfected",
    "agent": "the disinfectant used, required",
}


def _reason(exc: RecordRefused) -> tuple[str, str]:
    """(field, reason) from a refusal 'record: field: reason'."""
    parts = str(exc).split(": ", 2)
    return (parts[1], parts[2]) if len(parts) == 3 else ("", str(exc))


def _number(raw: dict[str, str], name: str, kind: Callable[[str], Any]) -> Any:
    value = raw.get(name) or None
    return None if value is None else kind(value)


def _place(conn: Connection, raw: dict[str, str]) -> str:
    source_id = raw.get("source_id", "")
    fields = {
        "name": raw.get("name", ""), "kind": raw.get("kind", ""),
        "rounds_per_day": _number(raw, "rounds_per_day", int),
        "village": raw.get("village") or None, "checkpoint": raw.get("checkpoint") or None,
        "lon": _number(raw, "lon", float), "lat": _number(raw, "lat", float),
    }  # fmt: skip
    if fields["rounds_per_day"] is None:
        raise RecordRefused(f"disinfection place {source_id!r}: rounds_per_day: required")
    existing = conn.execute(
        text("SELECT id FROM disinfection_places WHERE source_id = :s"), {"s": source_id}
    ).scalar_one_or_none()
    if existing is None:
        records.add_place(conn, source_id, **fields)
        return "inserted"
    with conn.begin_nested() as trial:  # the same checks as a new place, then taken back
        check_id = records.add_place(conn, f"import-check:{source_id}", **fields)
        row = conn.execute(
            text(
                "SELECT name, kind, rounds_per_day, village_id, checkpoint_id, geom"
                " FROM disinfection_places WHERE id = :i"
            ),
            {"i": check_id},
        ).one()
        trial.rollback()
    changed = conn.execute(
        text(
            "UPDATE disinfection_places SET name = :n, kind = :k, rounds_per_day = :r,"
            " village_id = :v, checkpoint_id = :c, geom = CAST(:g AS geometry),"
            " updated_at = now() WHERE id = :i AND ((name, kind, rounds_per_day, village_id,"
            " checkpoint_id, geom) IS DISTINCT FROM"
            " (:n, :k, :r, CAST(:v AS bigint), CAST(:c AS bigint), CAST(:g AS geometry)))"
            " RETURNING id"
        ),
        {
            "n": row.name,
            "k": row.kind,
            "r": row.rounds_per_day,
            "v": row.village_id,
            "c": row.checkpoint_id,
            "g": row.geom,
            "i": existing,
        },
    ).scalar_one_or_none()
    return "unchanged" if changed is None else "updated"


def _round(conn: Connection, raw: dict[str, str], actor: str, now: datetime) -> str:
    source_id = raw.get("source_id", "")
    record = f"disinfection round {source_id!r}"
    place = raw.get("place", "")
    try:
        at = datetime.fromisoformat(raw.get("at", ""))
    except ValueError:
        raise RecordRefused(f"{record}: at: not an ISO 8601 date-time") from None
    stored = conn.execute(
        text(
            "SELECT p.source_id AS place, r.at, s.source_id AS by, r.agent"
            " FROM disinfection_rounds AS r JOIN disinfection_places AS p ON p.id = r.place_id"
            " LEFT JOIN staff AS s ON s.id = r.staff_id WHERE r.source_id = :s"
        ),
        {"s": source_id},
    ).one_or_none()
    if stored is not None:
        given = {"place": place, "at": at, "by": raw.get("by") or None, "agent": raw.get("agent")}
        for name, value in given.items():
            if value != getattr(stored, name):
                raise RecordRefused(f"{record}: {name}: differs from the round imported before")
        return "unchanged"
    try:
        ref = records.place_ref(conn, place)
    except RecordRefused:
        raise RecordRefused(f"{record}: place: {place!r}: no such place") from None
    records.add_round(conn, int(ref.id), at=at, staff=raw.get("by") or None,
                      agent=raw.get("agent", ""), recorded_by=actor, now=now,
                      source_id=source_id)  # fmt: skip
    return "inserted"


def import_disinfection(
    conn: Connection,
    layer: str,
    path: Path,
    *,
    actor: str,
    encoding: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Every row of the file, or none; the report names each failing row."""
    report = ImportReport(layer=layer, file=path.name, dry_run=dry_run)
    required = ("source_id", "place", "at", "agent") if layer == ROUNDS else (
        "source_id", "name", "kind", "rounds_per_day")  # fmt: skip
    rows = read_rows(path, encoding=encoding, required=required)
    now = datetime.now(UTC)
    seen: dict[str, int] = {}
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    savepoint = conn.begin_nested()
    try:
        for line, raw in rows:
            source_id = raw.get("source_id", "")
            if source_id in seen:
                report.errors.append(Issue(reason=f"{source_id}: also on line {seen[source_id]}",
                                           line=line, field="source_id"))  # fmt: skip
                continue
            seen[source_id] = line
            try:
                with conn.begin_nested():
                    if layer == ROUNDS:
                        outcome = _round(conn, raw, actor, now)
                    else:
                        outcome = _place(conn, raw)
            except RecordRefused as exc:
                field, reason = _reason(exc)
                report.errors.append(Issue(reason=f"{source_id}: {reason}", line=line, field=field))
                continue
            except ValueError as exc:
                report.errors.append(Issue(reason=f"{source_id}: {exc}", line=line))
                continue
            counts[outcome] += 1
        if report.errors or dry_run:
            savepoint.rollback()
            if not report.errors:
                report.inserted, report.updated = counts["inserted"], counts["updated"]
                report.unchanged = counts["unchanged"]
            return report
        report.inserted, report.updated = counts["inserted"], counts["updated"]
        report.unchanged = counts["unchanged"]
        audit.record(conn, actor=actor, action="import", object_type=layer.replace("-", "_"),
                     row_count=counts["inserted"] + counts["updated"],
                     detail={"layer": layer, "file": path.name, **counts})  # fmt: skip
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    return report
