"""Door-to-door visits: which households a grid worker visits today, and recording a visit.

Due today (the rules of the source reports): a household with someone in home quarantine or
observation (a quarantine record active that day) is seen twice a day; every other household
is seen at least once in the town's screening window (`screening_window_days`, default 14:
"no household missed"). A visit that found nobody home did not see the household.
Recording is idempotent: the client's idempotency key becomes the visit's source id, so a
retried request never writes a second visit; the hash of the normalised body is kept with the
visit, so that a replay gets the same answer and the same key with another body (or for another
household) is a conflict. Temperatures taken at the visit are quarantine checks, each keyed by
the visit's key, the person and the window.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Row,
    ScalarSelect,
    String,
    Subquery,
    Text,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.masking import mask_name
from geodata.auth.rls import apply_scope
from geodata.errors import ConfigError, ConflictError, NotFoundError
from geodata.models import Base
from geodata.records import quarantines
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import settings, timezone_named, town_timezone
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
QC = Base.metadata.tables["quarantine_checks"]
FA = Base.metadata.tables["fever_alerts"]


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


MAX_FEVER_COUNT = 1000
"""More people with fever than any household holds: a larger count is a mistake."""
MAX_TEMPERATURES = 50
"""Temperatures in one visit: more than a household's quarantined people times windows."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the server's clock a phone's visit time may be."""
LATE_AFTER = timedelta(days=7)
"""A visit older than this is refused unless it is marked `late`."""


@dataclass(frozen=True)
class Temperature:
    """A quarantined person's temperature taken at the visit: the resident's source id, the
    check window (`07:00-12:00`, or the due list's `start/end`) and °C."""

    resident: str
    window: str
    temperature_c: float | str | Decimal


def _worker(principal: Principal) -> ScalarSelect[Any] | None:
    """The staff member the principal's account is linked to (None: not linked)."""
    if principal.user_id is None:
        return None
    return select(USERS.c.staff_id).where(USERS.c.id == principal.user_id).scalar_subquery()


def _window(conn: Connection, label: str, at: datetime, who: str) -> tuple[datetime, datetime]:
    """The check window named by `label` that holds the visit time `at`; a refusal else."""
    zone = town_timezone(conn)
    local = at.astimezone(zone)
    spans = quarantines.windows(conn, local.date())
    for start, end in spans:
        short = f"{start:%H:%M}-{'24:00' if end.date() > start.date() else f'{end:%H:%M}'}"
        if label in (short, f"{start.isoformat()}/{end.isoformat()}"):
            if not start <= local < end:
                raise RecordRefused(f"{who}: window: the visit time is outside {short}")
            return start, end
    raise RecordRefused(f"{who}: window: not one of the day's check windows")


def _quarantine_at(conn: Connection, household_id: int, resident: str, at: datetime) -> int:
    found = conn.execute(
        select(Q.c.id)
        .join(R, R.c.id == Q.c.resident_id)
        .where(
            R.c.source_id == resident,
            R.c.household_id == household_id,
            Q.c.starts_at <= at,
            func.coalesce(Q.c.released_at, Q.c.ends_at) > at,
        )
        .order_by(Q.c.starts_at.desc())
        .limit(1)
    ).scalar()
    if found is None:
        raise RecordRefused(
            f"temperatures: resident {resident!r}: no quarantine of this household at that time"
        )
    return int(found)


def _check_key(source_id: str, resident: str, window: str) -> str:
    """The check's idempotency key: the visit's, the person and the window (fits 128)."""
    digest = hashlib.sha256(f"{source_id}\x1f{resident}\x1f{window}".encode()).hexdigest()
    return f"visit-check:{digest}"


def _checks(conn: Connection, keys: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """The checks written under these (key, resident, window), in their order."""
    if not keys:
        return []
    rows = {
        r.idempotency_key: r
        for r in conn.execute(
            select(QC.c.idempotency_key, QC.c.quarantine_id, QC.c.temperature_c, FA.c.id.label("a"))
            .outerjoin(FA, FA.c.check_id == QC.c.id)
            .where(QC.c.idempotency_key.in_([k for k, _, _ in keys]))
        )
    }
    return [
        {
            "resident": resident,
            "window": window,
            "quarantine": int(rows[key].quarantine_id),
            "temperature_c": float(rows[key].temperature_c),
            "fever": rows[key].temperature_c >= quarantines.FEVER_C,
            "fever_alert": None if rows[key].a is None else int(rows[key].a),
        }
        for key, resident, window in keys
        if key in rows
    ]


def _request_hash(household_id: int, fields: dict[str, Any]) -> str:
    body = json.dumps({"household": household_id, **fields}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def record_visit(
    conn: Connection,
    principal: Principal,
    household_id: int,
    *,
    result: VisitResult,
    fever_count: int,
    idempotency_key: str,
    at: datetime | None = None,
    people_seen: int | None = None,
    temperatures: Sequence[Temperature] = (),
    late: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write one visit to a household in scope, with its temperatures as quarantine checks.

    The same key with the same body answers what it answered the first time and writes
    nothing; with another body or another household it is a conflict. Refused: a visit time
    in the future (beyond a few minutes of clock skew) or older than 7 days unless `late`,
    a temperature out of range, a person without a quarantine in this household.
    """
    principal.require(Action.EDIT_HOUSEHOLDS)
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ConfigError("idempotency_key: 8-100 characters of letters, digits, . _ : -")
    if not 0 <= fever_count <= MAX_FEVER_COUNT:
        raise ConfigError(f"fever_count: a count from 0 to {MAX_FEVER_COUNT}")
    if people_seen is not None and not 0 <= people_seen <= MAX_FEVER_COUNT:
        raise ConfigError(f"people_seen: a count from 0 to {MAX_FEVER_COUNT}")
    if len(temperatures) > MAX_TEMPERATURES:
        raise ConfigError(f"temperatures: at most {MAX_TEMPERATURES}")
    if at is not None and at.tzinfo is None:
        raise ConfigError("visited_at: needs a time zone")
    if len({(t.resident, t.window) for t in temperatures}) < len(temperatures):
        raise ConfigError("temperatures: one per person and window")
    celsius = [
        quarantines.temperature(t.temperature_c, f"temperatures: resident {t.resident!r}")
        for t in temperatures
    ]
    apply_scope(conn, principal)
    source_id = f"visit:{principal.name}:{idempotency_key}"
    # The household's grid and a visit already written under the key, in one statement.
    found = conn.execute(
        select(H.c.grid_id.label("household_grid"), *_ANSWERED)
        .select_from(H.outerjoin(V, V.c.source_id == source_id))
        .where(H.c.id == household_id)
    ).first()
    grid_id = None if found is None else found.household_grid
    if grid_id is None or not principal.covers(grid_id):
        raise NotFoundError(f"no household {household_id}")
    request_hash = _request_hash(
        household_id,
        {
            "result": result.value,
            "visited_at": None if at is None else at.astimezone(UTC).isoformat(),
            "people_seen": people_seen,
            "fever_count": fever_count,
            "temperatures": [
                [t.resident, t.window, str(c)] for t, c in zip(temperatures, celsius, strict=True)
            ],
            "late": bool(late),
        },
    )
    keys = [(_check_key(source_id, t.resident, t.window), t.resident, t.window)
            for t in temperatures]  # fmt: skip
    if found is not None and found.id is not None:
        return _replayed(conn, found, household_id, request_hash, keys)
    moment = now or datetime.now(UTC)
    visited_at = at or moment
    if visited_at > moment + CLOCK_SKEW:
        raise ConfigError("visited_at: in the future")
    if visited_at < moment - LATE_AFTER and not late:
        raise ConfigError("visited_at: more than 7 days ago; mark the visit late to record it")
    resolved = [
        (_quarantine_at(conn, household_id, t.resident, visited_at),
         _window(conn, t.window, visited_at, f"temperatures: resident {t.resident!r}"))
        for t in temperatures
    ]  # fmt: skip
    visit = (
        insert(V)
        .values(
            source_id=source_id,
            household_id=household_id,
            grid_id=grid_id,
            visited_at=visited_at,
            worker_id=_worker(principal),
            result=result.value,
            fever_count=fever_count,
            people_seen=people_seen,
            request_hash=request_hash,
        )
        .on_conflict_do_nothing(index_elements=[V.c.source_id])
        .returning(*_ANSWERED)
        .cte("written_visit")
    )
    # Its audit event by the same statement: written when the visit is, as `audit.record` would.
    event = audit.EVENTS.insert().from_select(
        ["actor", "action", "object_type", "object_ids", "row_count", "detail"],
        select(
            literal(principal.name, Text),
            literal("visit_record", String),
            literal("household", String),
            literal([household_id], ARRAY(BigInteger)),
            literal(1, Integer),
            literal({"checks": len(keys)} if keys else None, JSONB),
        ).select_from(visit),
    )
    written = conn.execute(select(*visit.c).add_cte(event.cte("visit_audit"))).first()
    if written is None:  # written meanwhile by the same request sent twice at once
        again = _replay(conn, source_id, household_id, request_hash, keys)
        assert again is not None
        return again
    for (key, _, _), (quarantine_id, _), value in zip(keys, resolved, celsius, strict=True):
        quarantines.record_check(
            conn, quarantine_id, temperature_c=value, at=visited_at, by=principal.name, key=key
        )
    # The answer from the row as written (RETURNING), as a replay reads it back.
    return _answer(conn, written, keys)


_ANSWERED = (V.c.id, V.c.household_id, V.c.visited_at, V.c.result, V.c.people_seen,
             V.c.fever_count, V.c.request_hash)  # fmt: skip
"""The visit's columns that its answer, and a replay's check, are made of."""


def _replay(
    conn: Connection,
    source_id: str,
    household_id: int,
    request_hash: str,
    keys: list[tuple[str, str, str]],
) -> dict[str, Any] | None:
    """The answer for a visit written under `source_id`, None when there is none; a conflict
    when it was written for another household or with another body."""
    row = conn.execute(select(*_ANSWERED).where(V.c.source_id == source_id)).first()
    if row is None:
        return None
    return _replayed(conn, row, household_id, request_hash, keys)


def _replayed(
    conn: Connection,
    row: Row[*tuple[Any, ...]],
    household_id: int,
    request_hash: str,
    keys: list[tuple[str, str, str]],
) -> dict[str, Any]:
    """The answer for the visit `row` written before under the same key; a conflict when it was
    written for another household or with another body."""
    if row.household_id != household_id:
        raise ConflictError("idempotency_key: already used for another household")
    if row.request_hash is not None and row.request_hash != request_hash:
        raise ConflictError("idempotency_key: already used with another body")
    return _answer(conn, row, keys)


def _answer(
    conn: Connection, row: Row[*tuple[Any, ...]], keys: list[tuple[str, str, str]]
) -> dict[str, Any]:
    """What recording a visit answers, from its row (`_ANSWERED`) and its checks."""
    return {
        "visit": int(row.id),
        "household": int(row.household_id),
        "visited_at": row.visited_at.astimezone(UTC).isoformat(),
        "result": str(row.result),
        "people_seen": row.people_seen,
        "fever_count": int(row.fever_count),
        "checks": _checks(conn, keys),
    }


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
