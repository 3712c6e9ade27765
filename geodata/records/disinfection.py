"""Disinfection records: places with their rounds a day, the log of rounds, the places overdue
at a moment and each place's compliance on a day (rules in `geodata.analysis.disinfection`).
Scope is a list of village ids (None: the town)."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, text

from geodata.analysis.disinfection import allowed_gap, overdue_at, overdue_seconds
from geodata.identifiers import identifier_problem
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import setting, town_timezone

KINDS = ("market", "station", "toilet", "checkpoint", "other")
GRACE_KEY = "disinfection_grace_minutes"


def _scope(villages: list[int] | None) -> str:
    return "TRUE" if villages is None else "p.village_id = ANY(:villages)"


def add_place(
    conn: Connection,
    source_id: str,
    *,
    name: str,
    kind: str,
    rounds_per_day: int,
    village: str | None = None,
    checkpoint: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> int:
    """A new place; refusals name the place, the field and the reason."""
    record = f"disinfection place {source_id!r}"
    problem = identifier_problem(source_id)
    if problem is not None:
        raise RecordRefused(f"disinfection place: source_id: {problem}")
    if kind not in KINDS:
        raise RecordRefused(f"{record}: kind: {kind!r}: one of {', '.join(KINDS)}")
    if not 1 <= rounds_per_day <= 48:
        raise RecordRefused(f"{record}: rounds_per_day: {rounds_per_day}: between 1 and 48")
    if not name.strip():
        raise RecordRefused(f"{record}: name: empty")
    village_id = checkpoint_id = None
    if village is not None:
        village_id = conn.execute(
            text("SELECT id FROM villages WHERE code = :c OR source_id = :c"), {"c": village}
        ).scalar_one_or_none()
        if village_id is None:
            raise RecordRefused(f"{record}: village: {village!r}: no such village")
    if checkpoint is not None:
        cp = conn.execute(
            text("SELECT id, village_id FROM checkpoints WHERE source_id = :s"), {"s": checkpoint}
        ).one_or_none()
        if cp is None:
            raise RecordRefused(f"{record}: checkpoint: {checkpoint!r}: no such checkpoint")
        checkpoint_id, village_id = cp.id, village_id or cp.village_id
    if (lon is None) != (lat is None):
        raise RecordRefused(f"{record}: lat: give lon and lat together")
    if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise RecordRefused(f"{record}: lon: ({lon}, {lat}) is not a WGS84 position")
    new = conn.execute(
        text(
            "INSERT INTO disinfection_places (source_id, name, kind, rounds_per_day, village_id,"
            " checkpoint_id, geom) VALUES (:s, :n, :k, :r, :v, :c,"
            " CASE WHEN CAST(:lon AS float8) IS NULL"
            " THEN (SELECT geom FROM checkpoints WHERE id = CAST(:c AS bigint))"
            " ELSE ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)"
            " END)"
            " ON CONFLICT (source_id) DO NOTHING RETURNING id"
        ),
        {
            "s": source_id,
            "n": name.strip(),
            "k": kind,
            "r": rounds_per_day,
            "v": village_id,
            "c": checkpoint_id,
            "lon": lon,
            "lat": lat,
        },
    ).scalar_one_or_none()
    if new is None:
        raise RecordRefused(f"{record}: source_id: exists already")
    return int(new)


def place_ref(conn: Connection, source_id: str) -> Any:
    row = conn.execute(
        text("SELECT id, source_id, village_id FROM disinfection_places WHERE source_id = :s"),
        {"s": source_id},
    ).one_or_none()
    if row is None:
        raise RecordRefused(f"disinfection round: place: {source_id!r}: no such place")
    return row


def add_round(
    conn: Connection,
    place_id: int,
    *,
    at: datetime,
    staff: str | None,
    agent: str,
    recorded_by: str,
    now: datetime,
    source_id: str | None = None,
) -> int:
    """Log a round; refused when dated in the future, or for an unknown person."""
    record = f"disinfection round {source_id!r}" if source_id else "disinfection round"
    if at.tzinfo is None:
        raise RecordRefused(f"{record}: at: needs an offset")
    if at > now:
        raise RecordRefused(f"{record}: at: {at.isoformat()} is in the future")
    if not agent.strip():
        raise RecordRefused(f"{record}: agent: required (the disinfectant used)")
    staff_id = None
    if staff:
        staff_id = conn.execute(
            text("SELECT id FROM staff WHERE source_id = :s"), {"s": staff}
        ).scalar_one_or_none()
        if staff_id is None:
            raise RecordRefused(f"{record}: by: {staff!r}: no such staff")
    return int(
        conn.execute(
            text(
                "INSERT INTO disinfection_rounds (source_id, place_id, at, staff_id, agent,"
                " recorded_by, recorded_at) VALUES (:s, :p, :at, :st, :a, :by, :now) RETURNING id"
            ),
            {
                "s": source_id or f"round:{uuid.uuid4()}",
                "p": place_id,
                "at": at,
                "st": staff_id,
                "a": agent.strip(),
                "by": recorded_by,
                "now": now,
            },
        ).scalar_one()
    )


def grace_minutes(conn: Connection) -> int:
    return int(setting(conn, GRACE_KEY))


def overdue(conn: Connection, moment: datetime, villages: list[int] | None) -> list[dict[str, Any]]:
    """The places overdue at `moment`: their last round then (None: none yet) and when they
    fell due, the longest overdue first."""
    rows = conn.execute(
        text(
            "SELECT p.source_id, p.rounds_per_day, p.created_at, last.at AS last_at,"  # noqa: S608 (the scope is one of two constant clauses; values are bound)
            " first.at AS first_at FROM disinfection_places AS p"
            " LEFT JOIN LATERAL (SELECT at FROM disinfection_rounds WHERE place_id = p.id"
            " AND at <= :m ORDER BY at DESC LIMIT 1) AS last ON true"
            " LEFT JOIN LATERAL (SELECT at FROM disinfection_rounds WHERE place_id = p.id"
            " ORDER BY at LIMIT 1) AS first ON true"
            f" WHERE {_scope(villages)} ORDER BY p.source_id"
        ),
        {"m": moment, "villages": villages},
    ).all()
    grace = grace_minutes(conn)
    zone = town_timezone(conn)
    found = []
    for r in rows:
        anchor = r.created_at if r.first_at is None else min(r.created_at, r.first_at)
        rounds = [] if r.last_at is None else [r.last_at]
        due = overdue_at(moment, anchor, rounds, allowed_gap(r.rounds_per_day, grace))
        if due is not None:
            found.append(
                {
                    "place": r.source_id,
                    "last_round_at": None
                    if r.last_at is None
                    else r.last_at.astimezone(zone).isoformat(),
                    "due_at": due.astimezone(zone).isoformat(),
                    "_due": due,
                }
            )
    found.sort(key=lambda f: (f.pop("_due"), f["place"]))
    return found


def compliance(
    conn: Connection, day: datetime, villages: list[int] | None, *, now: datetime
) -> list[dict[str, Any]]:
    """Each place on the town-time day holding `day`: rounds done and required, minutes
    overdue (up to now, for today), and whether it complied (enough rounds, never overdue)."""
    zone = town_timezone(conn)
    start = datetime.combine(day.astimezone(zone).date(), time(), tzinfo=zone)
    end = start + timedelta(days=1)
    grace = grace_minutes(conn)
    places = conn.execute(
        text(
            "SELECT p.id, p.source_id, p.rounds_per_day, p.created_at,"  # noqa: S608 (the scope is one of two constant clauses; values are bound)
            " (SELECT min(at) FROM disinfection_rounds WHERE place_id = p.id) AS first_at,"
            " (SELECT max(at) FROM disinfection_rounds WHERE place_id = p.id AND at < :start)"
            " AS before_at FROM disinfection_places AS p"
            f" WHERE {_scope(villages)} ORDER BY p.source_id"
        ),
        {"start": start, "villages": villages},
    ).all()
    out = []
    for p in places:
        anchor = p.created_at if p.first_at is None else min(p.created_at, p.first_at)
        if anchor >= end:
            continue
        in_day = list(
            conn.execute(
                text(
                    "SELECT at FROM disinfection_rounds WHERE place_id = :p"
                    " AND at >= :start AND at < :end ORDER BY at"
                ),
                {"p": p.id, "start": start, "end": end},
            ).scalars()
        )
        rounds = ([p.before_at] if p.before_at is not None else []) + in_day
        seconds = overdue_seconds(
            start, min(end, now), anchor, rounds, allowed_gap(p.rounds_per_day, grace)
        )
        minutes = round(seconds / 60, 1)
        out.append(
            {
                "place": p.source_id,
                "day": start.date().isoformat(),
                "rounds": len(in_day),
                "required": p.rounds_per_day,
                "overdue_minutes": minutes,
                "compliant": len(in_day) >= p.rounds_per_day and seconds == 0,
            }
        )
    return out


def places(conn: Connection, villages: list[int] | None) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            "SELECT p.source_id, p.name, p.kind, p.rounds_per_day, v.code AS village,"  # noqa: S608 (the scope is one of two constant clauses; values are bound)
            " ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat FROM disinfection_places AS p"
            f" LEFT JOIN villages AS v ON v.id = p.village_id WHERE {_scope(villages)}"
            " ORDER BY p.source_id"
        ),
        {"villages": villages},
    ).mappings()
    return [dict(r) for r in rows]
