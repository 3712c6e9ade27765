"""The command post acts: an entrance sealed or opened, a checkpoint activated or closed, by a
principal holding `operate` (audited); people on shifts are in `shift_staffing`.

Each state change names its effective time (now, or planned), the staff member responsible
and a reason, and is written as an entrance or checkpoint event, so that "as of" replays it.
A change effective now also sets the object's state; a planned one writes only its event.
Every change carries the version the caller saw: a stale one is refused with the object as
it is now (`StaleVersion`), and nothing is overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.errors import NotFoundError, WanggeError
from geodata.params.base import BIGINT_MAX
from geodata.params.operations import StateChangeParams
from geodata.records.as_of import checkpoint_state_as_of, entrance_states
from geodata.records.town_settings import setting
from geodata.vocab import CheckpointState, EntranceState


class OperationRefused(WanggeError):  # noqa: N818 - reads as the outcome the person sees
    """A command-post change that does not make sense (unknown staff, a state the object
    does not have, a time too far in the past...): it names the object, the field and the
    reason, and nothing was changed. Exit code 1, HTTP 400."""


class StaleVersion(WanggeError):  # noqa: N818 - reads as the outcome the person sees
    """The object changed since the caller read it: HTTP 409 with the object as it is now,
    exit code 1. Nothing was changed."""

    def __init__(self, message: str, current: dict[str, Any]) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    events: str
    key: str
    states: tuple[str, ...]
    village_sql: str
    state_events: str = ""
    """The condition keeping state events of `events` (checkpoints also hold staffing events)."""


ENTRANCE = Kind(
    name="entrance",
    table="entrances",
    events="entrance_events",
    key="entrance_id",
    states=tuple(s.value for s in EntranceState),
    village_sql="coalesce(o.village_id, (SELECT c.village_id FROM compounds c"
    " WHERE c.id = o.compound_id))",
)
CHECKPOINT = Kind(
    name="checkpoint",
    table="checkpoints",
    events="checkpoint_events",
    key="checkpoint_id",
    states=tuple(s.value for s in CheckpointState),
    village_sql="o.village_id",
    state_events=" AND e.kind = 'state'",
)
KINDS = {"entrance": ENTRANCE, "checkpoint": CHECKPOINT}


# -- reading -------------------------------------------------------------------------------


def known_id(what: str, ref: int | str) -> None:
    """An id beyond the database's bigint names nothing (not an overflow in SQL)."""
    if isinstance(ref, int) and not 0 < ref <= BIGINT_MAX:
        raise NotFoundError(f"{what} {ref}: no such {what}")


def _row(conn: Connection, kind: Kind, ref: int | str, *, lock: bool = False) -> Any:
    known_id(kind.name, ref)
    column = "o.id" if isinstance(ref, int) else "o.source_id"
    row = conn.execute(
        text(
            f"SELECT o.id, o.source_id, o.name, o.state::text AS state, o.version,"  # noqa: S608 (table and columns are this module's constants)
            f" {kind.village_sql} AS village_id FROM {kind.table} o WHERE {column} = :ref"
            + (" FOR UPDATE OF o" if lock else "")
        ),
        {"ref": ref},
    ).first()
    if row is None:
        raise NotFoundError(f"{kind.name} {ref}: no such {kind.name}")
    return row


def in_scope(conn: Connection, principal: Principal, village_id: int | None) -> bool:
    if principal.grid_ids is None:
        return True
    if village_id is None:
        return False
    return bool(
        conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM grids WHERE village_id = :v AND id = ANY(:g))"),
            {"v": village_id, "g": sorted(principal.grid_ids)},
        ).scalar()
    )


def _state_at(conn: Connection, kind: Kind, row: Any, moment: datetime) -> str | None:
    if kind is ENTRANCE:
        _, states = entrance_states(conn, moment, entrance_ids=[int(row.id)])
        return states[0] if states else None
    replay = checkpoint_state_as_of("c", ":m")
    found = conn.execute(
        text(
            "SELECT s.state::text FROM checkpoints AS c,"  # noqa: S608 (SQL of as_of.py; the moment is bound)
            f" LATERAL ({replay}) AS s WHERE c.id = :id"
        ),
        {"m": moment, "id": int(row.id)},
    ).scalar()
    return None if found is None else str(found)


def _describe(conn: Connection, kind: Kind, row: Any, now: datetime) -> dict[str, Any]:
    planned = conn.execute(
        text(
            f"SELECT e.at, e.to_state::text AS state, e.reason, e.user_name, s.source_id"  # noqa: S608 (constants of this module)
            f" FROM {kind.events} e LEFT JOIN staff s ON s.id = e.responsible_id"
            f" WHERE e.{kind.key} = :id AND e.at > :now{kind.state_events} ORDER BY e.at, e.id"
        ),
        {"id": int(row.id), "now": now},
    ).all()
    return {
        "id": int(row.id),
        "source_id": row.source_id,
        "type": kind.name,
        "name": row.name,
        "state": _state_at(conn, kind, row, now) or row.state,
        "version": int(row.version),
        "planned": [
            {
                "effective_at": p.at.isoformat(),
                "state": p.state,
                "responsible": p.source_id,
                "reason": p.reason,
                "by": p.user_name,
            }
            for p in planned
        ],
    }


def show(conn: Connection, principal: Principal, kind_name: str, ref: int | str) -> dict[str, Any]:
    """An entrance or a checkpoint as of now, its version and its planned changes apart."""
    principal.require(Action.VIEW_MAP)
    kind = KINDS[kind_name]
    row = _row(conn, kind, ref)
    if not in_scope(conn, principal, row.village_id):
        raise NotFoundError(f"{kind.name} {ref}: no such {kind.name}")
    return _describe(conn, kind, row, datetime.now(UTC))


# -- checks shared by every change -----------------------------------------------------------


def planned_grace(conn: Connection) -> timedelta:
    return timedelta(minutes=int(setting(conn, "planned_change_grace_minutes")))


def effective_moment(
    conn: Connection, label: str, effective_at: datetime | None, now: datetime
) -> datetime:
    """When a change takes effect: `effective_at`, or now; refused when further in the past
    than the town's grace period."""
    at = effective_at or now
    grace = planned_grace(conn)
    if at < now - grace:
        minutes = int(grace.total_seconds() // 60)
        raise OperationRefused(f"{label}: effective_at: more than {minutes} minutes in the past")
    return at


def active_staff(conn: Connection, what: str, source_id: str) -> tuple[int, int]:
    row = conn.execute(
        text("SELECT id, village_id FROM staff WHERE source_id = :s AND retired_at IS NULL"),
        {"s": source_id},
    ).first()
    if row is None:
        raise OperationRefused(f"{what}: no such staff member (a staff source id)")
    return int(row.id), int(row.village_id)


def _target(conn: Connection, principal: Principal, kind: Kind, ref: int | str) -> Any:
    principal.require(Action.OPERATE)
    row = _row(conn, kind, ref, lock=True)
    if not in_scope(conn, principal, row.village_id):
        raise NotFoundError(f"{kind.name} {ref}: no such {kind.name}")
    return row


# -- state changes ---------------------------------------------------------------------------


def set_state(
    conn: Connection,
    principal: Principal,
    kind_name: str,
    ref: int | str,
    change: StateChangeParams,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Change an entrance's or a checkpoint's state now or at `change.effective_at`.

    The row is locked first, so that of two changes sent with the same version one wins and
    the other is refused as stale. Returns the object as `show` does.
    """
    kind = KINDS[kind_name]
    row = _target(conn, principal, kind, ref)
    label = f"{kind.name} {row.source_id}"
    now = now or datetime.now(UTC)
    if change.state not in kind.states:
        raise OperationRefused(f"{label}: state: one of {', '.join(kind.states)}")
    responsible_id, _ = active_staff(conn, f"{label}: responsible", change.responsible)
    at = effective_moment(conn, label, change.effective_at, now)
    if int(row.version) != change.version:
        raise StaleVersion(
            f"{label}: version: changed since it was read (now {row.version})",
            _describe(conn, kind, row, now),
        )
    planned = at > now
    from_state = _state_at(conn, kind, row, at)
    if kind is CHECKPOINT:
        conn.execute(text("SELECT set_config('wangge.event_written', 'on', true)"))
    conn.execute(
        text(
            f"INSERT INTO {kind.events} ({kind.key}, at, from_state, to_state, user_name,"  # noqa: S608 (constants of this module)
            " responsible_id, reason) VALUES (:id, :at, :from_state, :to, :who, :resp, :reason)"
        ),
        {
            "id": int(row.id),
            "at": at,
            "from_state": from_state,
            "to": change.state,
            "who": principal.name,
            "resp": responsible_id,
            "reason": change.reason,
        },
    )
    sets = "version = version + 1, updated_at = now()"
    if not planned:
        sets += ", state = :to"
        if kind is ENTRANCE:
            sets += ", since = :at, changed_by = :who"
    conn.execute(
        text(f"UPDATE {kind.table} SET {sets} WHERE id = :id"),  # noqa: S608 (constants of this module)
        {"id": int(row.id), "to": change.state, "at": at, "who": principal.name},
    )
    if kind is CHECKPOINT:
        conn.execute(text("SELECT set_config('wangge.event_written', 'off', true)"))
    audit.record(
        conn,
        actor=principal.name,
        action=f"set_{kind.name}_state",
        object_type=kind.name,
        object_ids=[int(row.id)],
        row_count=1,
        detail={
            "to_state": change.state,
            "effective_at": at.isoformat(),
            "planned": planned,
            "responsible_id": responsible_id,
        },
    )
    return _describe(conn, kind, _row(conn, kind, int(row.id)), now)
