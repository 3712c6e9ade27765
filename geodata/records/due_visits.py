"""Who a grid worker visits today (the rules of the source reports): a household with someone
in home quarantine or observation (a quarantine record active that day) is seen twice a day;
every other household is seen at least once in the town's screening window
(`screening_window_days`, default 14: "no household missed"). A visit that found nobody home
did not see the household. `field_day` is the field app's list of the day built on it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Subquery, and_, case, func, literal, or_, select, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.masking import mask_name
from geodata.auth.rls import apply_scope
from geodata.models import Base
from geodata.records import quarantines
from geodata.records.town_settings import settings, timezone_named, town_timezone
from geodata.vocab import VisitResult

QUARANTINE_VISITS_PER_DAY = 2
SEEN = (VisitResult.SEEN_ALL.value, VisitResult.PARTIAL.value)
"""Visits that saw the household; `nobody_home` did not."""

H = Base.metadata.tables["households"]
R = Base.metadata.tables["residents"]
Q = Base.metadata.tables["quarantines"]
V = Base.metadata.tables["visits"]
G = Base.metadata.tables["grids"]
B = Base.metadata.tables["buildings"]


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def _quarantined_at_home(start: datetime, end: datetime) -> Subquery:
    """The households with someone in home quarantine or observation during the day (a
    quarantine record, not the household's status: released people leave the list), each once."""
    return (
        select(R.c.household_id)
        .join(Q, Q.c.resident_id == R.c.id)
        .where(
            Q.c.type.in_(("home", "observation")),
            Q.c.starts_at < end,
            func.coalesce(Q.c.released_at, Q.c.ends_at) > start,
        )
        .distinct()
        .subquery()
    )


def due_today(
    conn: Connection, principal: Principal, *, day: date | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Households in scope that still need a visit on `day`, quarantine first; no names."""
    principal.require(Action.VIEW_HOUSEHOLDS)
    apply_scope(conn, principal)
    stored = settings(conn, "timezone", "screening_window_days")
    zone = timezone_named(stored["timezone"])
    day = day or datetime.now(zone).date()
    start, end = _day_bounds(day, zone)
    since = start - timedelta(days=int(stored["screening_window_days"]) - 1)
    # One pass over the visits gives both the day's count and the last visit, and the
    # quarantined households are found once (not once per test of the condition).
    seen_visits = (
        select(
            V.c.household_id,
            func.count().filter(V.c.visited_at >= start).label("today"),
            func.max(V.c.visited_at).label("at"),
        )
        .where(V.c.visited_at < end, V.c.result.in_(SEEN))
        .group_by(V.c.household_id)
        .subquery()
    )
    quarantined = _quarantined_at_home(start, end)
    quarantine = quarantined.c.household_id.is_not(None)
    done_today = func.coalesce(seen_visits.c.today, 0)
    last_visit = seen_visits.c.at
    needs = or_(
        and_(quarantine, done_today < QUARANTINE_VISITS_PER_DAY),
        and_(~quarantine, or_(last_visit.is_(None), last_visit < since)),
    )
    query = (
        select(
            H.c.id,
            G.c.code.label("grid"),
            B.c.source_id.label("building"),
            H.c.unit,
            H.c.room,
            H.c.status,
            done_today.label("visits_today"),
            last_visit.label("last_visit"),
            case(
                (quarantine, literal("quarantine")),
                (last_visit.is_(None), literal("never visited")),
                else_=literal("screening"),
            ).label("reason"),
        )
        .join(G, G.c.id == H.c.grid_id)
        .outerjoin(B, B.c.id == H.c.building_id)
        .outerjoin(seen_visits, seen_visits.c.household_id == H.c.id)
        .outerjoin(quarantined, quarantined.c.household_id == H.c.id)
        .where(needs)
        .limit(min(limit, 5000))
    )
    query = query.where(principal.in_scope(H.c.grid_id))
    rows = audit.listed(
        conn,
        query,
        order_by=[quarantine.desc(), last_visit.asc().nulls_first(), H.c.id],
        id_column="id",
        actor=principal.name,
        action="list",
        object_type="visit_due",
    )
    for r in rows:
        r["last_visit"] = r["last_visit"].isoformat() if r["last_visit"] else None
    return rows


_ADDRESS = text(
    "SELECT h.id, v.name AS village, c.name AS compound, b.name AS building_name,"
    " CASE WHEN b.id IS NULL THEN NULL ELSE (SELECT count(*) FROM buildings x"
    " WHERE x.compound_id IS NOT DISTINCT FROM b.compound_id"
    " AND x.grid_id IS NOT DISTINCT FROM b.grid_id AND x.id <= b.id) END AS building_number,"
    " h.unit, h.room FROM households h"
    " LEFT JOIN buildings b ON b.id = h.building_id"
    " LEFT JOIN compounds c ON c.id = b.compound_id"
    " LEFT JOIN grids g ON g.id = h.grid_id LEFT JOIN villages v ON v.id = g.village_id"
    " WHERE h.id = ANY(:ids)"
)
"""A household's address as people say it: village, compound, building (its name, else its
number among the compound's buildings), unit, room; never a source id."""

_PEOPLE_IN_QUARANTINE = text(
    "SELECT r.household_id, r.source_id, r.name, q.type FROM quarantines q"
    " JOIN residents r ON r.id = q.resident_id WHERE r.household_id = ANY(:ids)"
    " AND q.type IN ('home', 'observation') AND q.starts_at < :end"
    " AND coalesce(q.released_at, q.ends_at) > :start ORDER BY r.household_id, r.id"
)


_RESIDENTS = text(
    "SELECT r.household_id, r.source_id, r.name, EXISTS (SELECT 1 FROM quarantines q"
    " WHERE q.resident_id = r.id AND q.status = 'active') AS in_quarantine FROM residents r"
    " WHERE r.household_id = ANY(:ids) ORDER BY r.household_id, r.id"
)


def field_day(conn: Connection, principal: Principal, *, day: date | None = None) -> dict[str, Any]:
    """The field app's list of the day: the households due (as `due_today`), each with its
    address, the people in home quarantine there (masked names) whose temperature is taken
    in each of the day's check windows, and everyone living there (masked names; a returnee
    or a fever case is registered from the card)."""
    principal.require(Action.EDIT_HOUSEHOLDS)
    zone = town_timezone(conn)
    day = day or datetime.now(zone).date()
    rows = due_today(conn, principal, day=day)
    ids = [int(r["id"]) for r in rows]
    addresses = {int(a.id): a for a in conn.execute(_ADDRESS, {"ids": ids})}
    start, end = _day_bounds(day, zone)
    people: dict[int, list[dict[str, Any]]] = {}
    for p in conn.execute(_PEOPLE_IN_QUARANTINE, {"ids": ids, "start": start, "end": end}):
        people.setdefault(int(p.household_id), []).append(
            {"resident": p.source_id, "name": mask_name(p.name), "type": p.type}
        )
    residents: dict[int, list[dict[str, Any]]] = {}
    for p in conn.execute(_RESIDENTS, {"ids": ids}):
        residents.setdefault(int(p.household_id), []).append(
            {"resident": p.source_id, "name": mask_name(p.name),
             "in_quarantine": bool(p.in_quarantine)}
        )  # fmt: skip
    spans = quarantines.windows(conn, day)
    households = []
    for r in rows:
        a = addresses.get(int(r["id"]))
        households.append(
            {
                "id": int(r["id"]),
                "reason": r["reason"],
                "visits_today": int(r["visits_today"]),
                "last_visit": r["last_visit"],
                "address": {
                    "village": a.village if a else None,
                    "compound": a.compound if a else None,
                    "building": a.building_name if a else None,
                    "building_number": None if a is None or a.building_number is None
                    else int(a.building_number),
                    "unit": a.unit if a else None,
                    "room": a.room if a else None,
                },
                "people": people.get(int(r["id"]), []),
                "residents": residents.get(int(r["id"]), []),
            }
        )  # fmt: skip
    return {
        "date": day.isoformat(),
        "windows": [
            {
                "label": f"{a:%H:%M}-{'24:00' if b.date() > a.date() else f'{b:%H:%M}'}",
                "start": a.isoformat(),
                "end": b.isoformat(),
            }
            for a, b in spans
        ],
        "households": households,
    }
