"""Door-to-door visits: which households a grid worker visits today, and recording a visit.

Due today (the rules of the source reports): a household with someone in home quarantine or
observation (a quarantine record active that day) is seen twice a day; every other household
is seen at least once in the town's screening window (`screening_window_days`, default 14:
"no household missed"). A visit that found nobody home did not see the household.
Recording is idempotent: the client's idempotency key becomes the visit's source id, so a
retried request never writes a second visit.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    ScalarSelect,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.errors import ConfigError, NotFoundError
from geodata.models import Base
from geodata.records.town_settings import setting, town_timezone
from geodata.vocab import VisitResult

QUARANTINE_VISITS_PER_DAY = 2
SEEN = (VisitResult.SEEN_ALL.value, VisitResult.PARTIAL.value)
"""Visits that saw the household; `nobody_home` did not."""
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")

H = Base.metadata.tables["households"]
R = Base.metadata.tables["residents"]
Q = Base.metadata.tables["quarantines"]
V = Base.metadata.tables["visits"]
G = Base.metadata.tables["grids"]
B = Base.metadata.tables["buildings"]
USERS = Base.metadata.tables["users"]


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def _in_quarantine_at_home(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Whether someone of the household is in home quarantine or observation during the day
    (a quarantine record, not the household's status: released people leave the list)."""
    return exists().where(
        R.c.household_id == H.c.id,
        Q.c.resident_id == R.c.id,
        Q.c.type.in_(("home", "observation")),
        Q.c.starts_at < end,
        func.coalesce(Q.c.released_at, Q.c.ends_at) > start,
    )


def due_today(
    conn: Connection, principal: Principal, *, day: date | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Households in scope that still need a visit on `day`, quarantine first; no names."""
    principal.require(Action.VIEW_HOUSEHOLDS)
    apply_scope(conn, principal)
    zone = town_timezone(conn)
    day = day or datetime.now(zone).date()
    start, end = _day_bounds(day, zone)
    since = start - timedelta(days=int(setting(conn, "screening_window_days")) - 1)
    seen = V.c.result.in_(SEEN)
    today_visits = (
        select(V.c.household_id, func.count().label("n"))
        .where(V.c.visited_at >= start, V.c.visited_at < end, seen)
        .group_by(V.c.household_id)
        .subquery()
    )
    last_visit = (
        select(V.c.household_id, func.max(V.c.visited_at).label("at"))
        .where(V.c.visited_at < end, seen)
        .group_by(V.c.household_id)
        .subquery()
    )
    done_today = func.coalesce(today_visits.c.n, 0)
    quarantine = _in_quarantine_at_home(start, end)
    needs = or_(
        and_(quarantine, done_today < QUARANTINE_VISITS_PER_DAY),
        and_(~quarantine, or_(last_visit.c.at.is_(None), last_visit.c.at < since)),
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
            last_visit.c.at.label("last_visit"),
            case(
                (quarantine, literal("quarantine")),
                (last_visit.c.at.is_(None), literal("never visited")),
                else_=literal("screening"),
            ).label("reason"),
        )
        .join(G, G.c.id == H.c.grid_id)
        .outerjoin(B, B.c.id == H.c.building_id)
        .outerjoin(today_visits, today_visits.c.household_id == H.c.id)
        .outerjoin(last_visit, last_visit.c.household_id == H.c.id)
        .where(needs)
        .order_by(quarantine.desc(), last_visit.c.at.asc().nulls_first(), H.c.id)
        .limit(min(limit, 5000))
    )
    query = query.where(principal.in_scope(H.c.grid_id))
    rows = [dict(r) for r in conn.execute(query).mappings()]
    for r in rows:
        r["last_visit"] = r["last_visit"].isoformat() if r["last_visit"] else None
    audit.record(
        conn,
        actor=principal.name,
        action="list",
        object_type="visit_due",
        object_ids=[r["id"] for r in rows],
        row_count=len(rows),
    )
    return rows


MAX_FEVER_COUNT = 1000
"""More people with fever than any household holds: a larger count is a mistake."""


def _worker(principal: Principal) -> ScalarSelect[Any] | None:
    """The staff member the principal's account is linked to (None: not linked)."""
    if principal.user_id is None:
        return None
    return select(USERS.c.staff_id).where(USERS.c.id == principal.user_id).scalar_subquery()


def record_visit(
    conn: Connection,
    principal: Principal,
    household_id: int,
    *,
    result: VisitResult,
    fever_count: int,
    idempotency_key: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Write one visit to a household in scope; the same key twice writes it once."""
    principal.require(Action.EDIT_HOUSEHOLDS)
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ConfigError("idempotency_key: 8-100 characters of letters, digits, . _ : -")
    if not 0 <= fever_count <= MAX_FEVER_COUNT:
        raise ConfigError(f"fever_count: a count from 0 to {MAX_FEVER_COUNT}")
    apply_scope(conn, principal)
    grid_id = conn.execute(select(H.c.grid_id).where(H.c.id == household_id)).scalar()
    if grid_id is None or not principal.covers(grid_id):
        raise NotFoundError(f"no household {household_id}")
    source_id = f"visit:{principal.name}:{idempotency_key}"
    visit_id = conn.execute(
        insert(V)
        .values(
            source_id=source_id,
            household_id=household_id,
            grid_id=grid_id,
            visited_at=at or datetime.now(UTC),
            worker_id=_worker(principal),
            result=result.value,
            fever_count=fever_count,
        )
        .on_conflict_do_nothing(index_elements=[V.c.source_id])
        .returning(V.c.id)
    ).scalar()
    if visit_id is None:  # a retry of a request that was already written
        existing = conn.execute(
            select(V.c.id, V.c.household_id).where(V.c.source_id == source_id)
        ).one()
        if existing.household_id != household_id:
            raise ConfigError("idempotency_key: already used for another household")
        return {"visit": int(existing.id), "created": False}
    audit.record(
        conn,
        actor=principal.name,
        action="visit_record",
        object_type="household",
        object_ids=[household_id],
        row_count=1,
    )
    return {"visit": int(visit_id), "created": True}
