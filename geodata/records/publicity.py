"""Publicity points: banners, signs and notice boards (points) and loudspeaker routes (lines),
with their content, the day put up and the last check. A point is unchecked at a moment when
its last check (else the day it was put up) is more than `UNCHECKED_AFTER` before it. Scope is a
list of village ids (None: the town)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from geodata.identifiers import identifier_problem
from geodata.records.placed import Where, locate
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import town_timezone

KINDS = ("banner", "sign", "loudspeaker_route", "notice_board")
UNCHECKED_AFTER = timedelta(days=7)


@dataclass(frozen=True, kw_only=True)
class PointFields:
    kind: str
    content: str
    put_up_on: date | None
    where: Where
    last_checked_at: datetime | None = None


def _scope(villages: list[int] | None) -> str:
    return "TRUE" if villages is None else "p.village_id = ANY(:villages)"


def _checked(conn: Connection, source_id: str, f: PointFields, now: datetime) -> dict[str, Any]:
    problem = identifier_problem(source_id)
    if problem is not None or len(source_id) > 128:
        raise RecordRefused(f"publicity point: source_id: {problem or 'at most 128 characters'}")
    record = f"publicity point {source_id!r}"
    if f.kind not in KINDS:
        raise RecordRefused(f"{record}: kind: {f.kind!r}: one of {', '.join(KINDS)}")
    if not f.content.strip():
        raise RecordRefused(f"{record}: content: empty")
    if f.put_up_on is None:
        raise RecordRefused(f"{record}: put_up_on: required")
    today = now.astimezone(town_timezone(conn)).date()
    if f.put_up_on > today:
        raise RecordRefused(f"{record}: put_up_on: {f.put_up_on} is in the future")
    checked = f.last_checked_at
    if checked is not None:
        if checked.tzinfo is None:
            raise RecordRefused(f"{record}: last_checked_at: needs an offset")
        if checked > now:
            raise RecordRefused(
                f"{record}: last_checked_at: {checked.isoformat()} is in the future"
            )
        if checked.astimezone(town_timezone(conn)).date() < f.put_up_on:
            raise RecordRefused(f"{record}: last_checked_at: before put_up_on {f.put_up_on}")
    kinds = ("LineString",) if f.kind == "loudspeaker_route" else ("Point",)
    ewkt, village_id = locate(conn, record, f.where, kinds=kinds)
    return {"s": source_id, "k": f.kind, "c": f.content.strip(), "p": f.put_up_on,
            "l": checked, "v": village_id, "g": ewkt}  # fmt: skip


def upsert(conn: Connection, source_id: str, f: PointFields, *, now: datetime) -> tuple[str, int]:
    """Insert or update by source id: ('inserted' | 'updated' | 'unchanged', id). A missing
    last check keeps the one recorded; an earlier one than recorded does not undo it."""
    row = _checked(conn, source_id, f, now)
    existing = conn.execute(
        text("SELECT id FROM publicity_points WHERE source_id = :s"), {"s": source_id}
    ).scalar_one_or_none()
    if existing is None:
        new = conn.execute(
            text(
                "INSERT INTO publicity_points (source_id, kind, content, put_up_on,"
                " last_checked_at, village_id, geom) VALUES (:s, :k, :c, :p, :l, :v,"
                " ST_GeomFromEWKT(:g)) RETURNING id"
            ),
            row,
        ).scalar_one()
        return "inserted", int(new)
    changed = conn.execute(
        text(
            "UPDATE publicity_points SET kind = :k, content = :c, put_up_on = :p,"
            " last_checked_at = greatest(last_checked_at, CAST(:l AS timestamptz)),"
            " village_id = :v, geom = ST_GeomFromEWKT(:g), updated_at = now()"
            " WHERE id = :i AND ((kind, content, put_up_on, village_id)"
            " IS DISTINCT FROM (:k, :c, CAST(:p AS date), CAST(:v AS bigint))"
            " OR last_checked_at IS DISTINCT FROM"
            " greatest(last_checked_at, CAST(:l AS timestamptz))"
            " OR NOT ST_Equals(geom, ST_GeomFromEWKT(:g))) RETURNING id"
        ),
        {**row, "i": existing},
    ).scalar_one_or_none()
    return ("unchanged" if changed is None else "updated"), int(existing)


def check(conn: Connection, source_id: str, *, at: datetime, now: datetime) -> Any:
    """Record a check of a point at `at`; refused for an unknown point or a time in the future
    or before the point was put up. Returns the point's id and village id."""
    record = f"publicity check of {source_id!r}"
    row = conn.execute(
        text("SELECT id, village_id, put_up_on FROM publicity_points WHERE source_id = :s"),
        {"s": source_id},
    ).one_or_none()
    if row is None:
        raise RecordRefused(f"{record}: point: {source_id!r}: no such publicity point")
    if at.tzinfo is None:
        raise RecordRefused(f"{record}: at: needs an offset")
    if at > now:
        raise RecordRefused(f"{record}: at: {at.isoformat()} is in the future")
    if at.astimezone(town_timezone(conn)).date() < row.put_up_on:
        raise RecordRefused(f"{record}: at: before the point was put up on {row.put_up_on}")
    conn.execute(
        text(
            "UPDATE publicity_points SET last_checked_at = greatest(last_checked_at, :at),"
            " updated_at = now() WHERE id = :i"
        ),
        {"at": at, "i": row.id},
    )
    return row


UNCHECKED = (
    "coalesce(p.last_checked_at, (p.put_up_on::timestamp AT TIME ZONE :zone))"
    " < CAST(:at AS timestamptz) - CAST(:after AS interval)"
)
"""Whether point `p` is unchecked at `:at`: its last check, else the start of the day it was
put up (town time), more than `:after` before."""


def listed(
    conn: Connection, villages: list[int] | None, *, at: datetime, unchecked_only: bool = False
) -> list[dict[str, Any]]:
    """The points in scope, each with whether it is unchecked at `at`."""
    zone = town_timezone(conn)
    rows = conn.execute(
        text(
            "SELECT p.source_id, p.kind, p.content, p.put_up_on, p.last_checked_at,"  # noqa: S608 (constants of this module; values are bound)
            f" v.code AS village, {UNCHECKED} AS unchecked, GeometryType(p.geom) AS geometry,"
            " ST_X(ST_PointOnSurface(p.geom)) AS lon, ST_Y(ST_PointOnSurface(p.geom)) AS lat"
            " FROM publicity_points AS p JOIN villages AS v ON v.id = p.village_id"
            f" WHERE {_scope(villages)} AND (NOT :only OR {UNCHECKED}) ORDER BY p.source_id"
        ),
        {"villages": villages, "zone": zone.key, "at": at, "after": UNCHECKED_AFTER,
         "only": unchecked_only},
    ).mappings()  # fmt: skip
    return [
        {
            "point": r["source_id"],
            "source_id": r["source_id"],
            "kind": r["kind"],
            "content": r["content"],
            "put_up_on": r["put_up_on"].isoformat(),
            "last_checked_at": None
            if r["last_checked_at"] is None
            else r["last_checked_at"].astimezone(zone).isoformat(),
            "village": r["village"],
            "unchecked": r["unchecked"],
            "geometry": "LineString" if r["geometry"] == "LINESTRING" else "Point",
            "lon": r["lon"],
            "lat": r["lat"],
        }
        for r in rows
    ]


def unchecked_count(conn: Connection, villages: list[int] | None, *, at: datetime) -> int:
    zone = town_timezone(conn)
    return int(
        conn.execute(
            text(
                f"SELECT count(*) FROM publicity_points AS p WHERE {_scope(villages)}"  # noqa: S608 (constants of this module; values are bound)
                f" AND {UNCHECKED}"
            ),
            {"villages": villages, "zone": zone.key, "at": at, "after": UNCHECKED_AFTER},
        ).scalar_one()
    )


def exists(conn: Connection, source_id: str) -> bool:
    return (
        conn.execute(
            text("SELECT 1 FROM publicity_points WHERE source_id = :s"), {"s": source_id}
        ).first()
        is not None
    )


def village_of(conn: Connection, point_id: int) -> int:
    return int(
        conn.execute(
            text("SELECT village_id FROM publicity_points WHERE id = :i"), {"i": point_id}
        ).scalar_one()
    )


def village_by_source(conn: Connection, source_id: str) -> int | None:
    found = conn.execute(
        text("SELECT village_id FROM publicity_points WHERE source_id = :s"), {"s": source_id}
    ).scalar_one_or_none()
    return None if found is None else int(found)
