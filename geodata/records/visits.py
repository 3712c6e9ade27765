"""Door-to-door visits recorded (who is due today: `due_visits`).

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
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Row,
    ScalarSelect,
    String,
    Text,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.errors import ConfigError, ConflictError, NotFoundError
from geodata.models import Base
from geodata.records import quarantines
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import town_timezone
from geodata.vocab import VisitResult

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")

H = Base.metadata.tables["households"]
R = Base.metadata.tables["residents"]
Q = Base.metadata.tables["quarantines"]
V = Base.metadata.tables["visits"]
USERS = Base.metadata.tables["users"]
QC = Base.metadata.tables["quarantine_checks"]
FA = Base.metadata.tables["fever_alerts"]


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
