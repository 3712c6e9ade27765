"""The command post staffs shifts: a person put on a shift or taken off it, now or at a
planned moment, by a principal holding `operate` (audited).

Each change is a checkpoint event (`staff_on` or `staff_off`, migration 0013) naming the
shift, the person, the effective time, the staff member responsible and the reason. The
person's row on the shift carries the same times (`joins_at`, `leaves_at`), so that the
exclusion constraint, the hourly head count of `wangge check` and "as of" see the hours the
person is really there. Taking someone off before they joined removes the row; the event
keeps the history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.errors import NotFoundError
from geodata.params.operations import ShiftStaffParams
from geodata.services.operations import (
    OperationRefused,
    StaleVersion,
    active_staff,
    effective_moment,
    in_scope,
    known_id,
)


def _shift(conn: Connection, principal: Principal, ref: int | str, *, lock: bool = False) -> Any:
    known_id("shift", ref)
    column = "s.id" if isinstance(ref, int) else "s.source_id"
    row = conn.execute(
        text(
            "SELECT s.id, s.source_id, s.checkpoint_id, s.starts_at, s.ends_at, s.staff_count,"  # noqa: S608 (one of two constant columns)
            " s.version, c.source_id AS checkpoint, c.village_id FROM checkpoint_shifts s"
            f" JOIN checkpoints c ON c.id = s.checkpoint_id WHERE {column} = :ref"
            + (" FOR UPDATE OF s" if lock else "")
        ),
        {"ref": ref},
    ).first()
    if row is None or not in_scope(conn, principal, row.village_id):
        raise NotFoundError(f"shift {ref}: no such shift")
    return row


def _describe_shift(conn: Connection, row: Any, now: datetime) -> dict[str, Any]:
    people = conn.execute(
        text(
            "SELECT st.source_id, ss.starts_at, ss.ends_at, ss.leaves_at FROM shift_staff ss"
            " JOIN staff st ON st.id = ss.staff_id WHERE ss.shift_id = :id ORDER BY st.source_id"
        ),
        {"id": int(row.id)},
    ).all()
    planned = conn.execute(
        text(
            "SELECT e.at, e.kind, p.source_id AS staff, r.source_id AS responsible, e.reason,"
            " e.user_name FROM checkpoint_events e JOIN staff p ON p.id = e.staff_id"
            " LEFT JOIN staff r ON r.id = e.responsible_id"
            " WHERE e.shift_id = :id AND e.at > :now ORDER BY e.at, e.id"
        ),
        {"id": int(row.id), "now": now},
    ).all()
    return {
        "id": int(row.id),
        "source_id": row.source_id,
        "type": "shift",
        "checkpoint": row.checkpoint,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "staff_count": int(row.staff_count),
        "staff": [p.source_id for p in people if p.leaves_at is None],
        "people": [
            {"staff": p.source_id, "from": p.starts_at.isoformat(), "until": p.ends_at.isoformat()}
            for p in people
        ],
        "version": int(row.version),
        "planned": [
            {
                "effective_at": p.at.isoformat(),
                "change": "put_on" if p.kind == "staff_on" else "take_off",
                "staff": p.staff,
                "responsible": p.responsible,
                "reason": p.reason,
                "by": p.user_name,
            }
            for p in planned
        ],
    }


def show_shift(conn: Connection, principal: Principal, ref: int | str) -> dict[str, Any]:
    """A shift: the people on it (`staff`, source ids, the head count), every person's hours
    there (`people`, with those taken off), its version and its planned changes apart."""
    principal.require(Action.VIEW_MAP)
    return _describe_shift(conn, _shift(conn, principal, ref), datetime.now(UTC))


def _put_on(conn: Connection, label: str, row: Any, staff_id: int, at: datetime) -> None:
    if at >= row.ends_at:
        raise OperationRefused(f"{label}: effective_at: the shift is over by then")
    try:
        with conn.begin_nested():
            conn.execute(
                text("INSERT INTO shift_staff (shift_id, staff_id, joins_at) VALUES (:s, :p, :j)"),
                {"s": int(row.id), "p": staff_id, "j": at if at > row.starts_at else None},
            )
    except IntegrityError as exc:
        if "shift_staff_no_overlap" in str(exc.orig):
            raise OperationRefused(
                f"{label}: staff: already on a shift that overlaps this one"
            ) from None
        raise


def _take_off(conn: Connection, label: str, there: Any, at: datetime) -> None:
    if at >= there.ends_at:
        raise OperationRefused(f"{label}: effective_at: the person has left by then")
    if at <= there.starts_at:
        conn.execute(text("DELETE FROM shift_staff WHERE id = :id"), {"id": int(there.id)})
    else:
        conn.execute(
            text("UPDATE shift_staff SET leaves_at = :at WHERE id = :id"),
            {"id": int(there.id), "at": at},
        )


def change_shift_staff(
    conn: Connection,
    principal: Principal,
    ref: int | str,
    change: ShiftStaffParams,
    *,
    on: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Put `change.staff` on the shift (`on`) or take them off it, from `change.effective_at`
    (default now); written as a checkpoint event and audited."""
    principal.require(Action.OPERATE)
    row = _shift(conn, principal, ref, lock=True)
    label = f"shift {row.source_id or row.id}"
    now = now or datetime.now(UTC)
    staff_id, village_id = active_staff(conn, f"{label}: staff", change.staff)
    responsible_id, _ = active_staff(conn, f"{label}: responsible", change.responsible)
    at = effective_moment(conn, label, change.effective_at, now)
    if int(row.version) != change.version:
        raise StaleVersion(
            f"{label}: version: changed since it was read (now {row.version})",
            _describe_shift(conn, row, now),
        )
    there = conn.execute(
        text(
            "SELECT id, starts_at, ends_at FROM shift_staff WHERE shift_id = :s AND staff_id = :p"
        ),
        {"s": int(row.id), "p": staff_id},
    ).first()
    if on:
        if there is not None:
            raise OperationRefused(f"{label}: staff: already on this shift")
        if row.village_id is not None and village_id != row.village_id:
            raise OperationRefused(f"{label}: staff: serves another village")
        _put_on(conn, label, row, staff_id, at)
    else:
        if there is None:
            raise OperationRefused(f"{label}: staff: not on this shift")
        _take_off(conn, label, there, at)
    conn.execute(
        text(
            "INSERT INTO checkpoint_events (checkpoint_id, at, kind, shift_id, staff_id,"
            " user_name, responsible_id, reason) VALUES (:c, :at, :kind, :s, :p, :who, :r, :why)"
        ),
        {"c": int(row.checkpoint_id), "at": at, "kind": "staff_on" if on else "staff_off",
         "s": int(row.id), "p": staff_id, "who": principal.name, "r": responsible_id,
         "why": change.reason},
    )  # fmt: skip
    conn.execute(
        text("UPDATE checkpoint_shifts SET version = version + 1 WHERE id = :id"),
        {"id": int(row.id)},
    )
    audit.record(
        conn,
        actor=principal.name,
        action="shift_put_on" if on else "shift_take_off",
        object_type="shift",
        object_ids=[int(row.id)],
        row_count=1,
        detail={
            "staff_id": staff_id,
            "responsible_id": responsible_id,
            "effective_at": at.isoformat(),
            "planned": at > now,
        },
    )
    return _describe_shift(conn, _shift(conn, principal, int(row.id)), now)
