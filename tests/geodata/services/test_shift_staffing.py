"""People put on shifts and taken off by the command post, on the sample town: now or
planned, each change a checkpoint event with its time, person responsible and reason; the
person's hours on the shift follow it; the checkpoint's state replay ignores these events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text

from geodata.auth.access import local_operator
from geodata.params import validate
from geodata.params.operations import ShiftStaffParams
from geodata.records.as_of import checkpoint_state_as_of
from geodata.services.operations import OperationRefused, StaleVersion
from geodata.services.shift_staffing import change_shift_staff, show_shift

ADMIN = local_operator("tester")
H = timedelta(hours=1)


@dataclass(frozen=True)
class Shift:
    id: int
    village_id: int
    checkpoint_id: int


def _running_shift(conn: Connection, now: datetime) -> Shift:
    """A new shift of a village checkpoint, from an hour ago to seven hours on, nobody on it."""
    checkpoint = conn.execute(
        text(
            "SELECT id, village_id FROM checkpoints WHERE village_id IS NOT NULL"
            " ORDER BY id LIMIT 1"
        )
    ).one()
    shift_id = conn.execute(
        text(
            "INSERT INTO checkpoint_shifts (checkpoint_id, starts_at, ends_at, staff_count,"
            " source_id) VALUES (:c, :a, :b, 0, 'ops-test-shift') RETURNING id"
        ),
        {"c": checkpoint.id, "a": now - H, "b": now + 7 * H},
    ).scalar_one()
    return Shift(int(shift_id), int(checkpoint.village_id), int(checkpoint.id))


def _person(conn: Connection, source_id: str, village_id: int) -> str:
    conn.execute(
        text(
            "INSERT INTO staff (source_id, name, role, village_id) VALUES"
            " (:s, 'On Shift', 'checkpoint_staff', :v)"
        ),
        {"s": source_id, "v": village_id},
    )
    return source_id


def _ask(staff: str, version: int, at: datetime | None = None) -> ShiftStaffParams:
    fields: dict[str, Any] = {"staff": staff, "version": version, "reason": "r"}
    fields["responsible"] = staff
    if at is not None:
        fields["effective_at"] = at.isoformat()
    return validate(ShiftStaffParams, fields)


def _hours(conn: Connection, shift_id: int, staff: str) -> Any:
    return conn.execute(
        text(
            "SELECT a.starts_at, a.ends_at FROM shift_staff a JOIN staff p ON p.id = a.staff_id"
            " WHERE a.shift_id = :s AND p.source_id = :p"
        ),
        {"s": shift_id, "p": staff},
    ).first()


def _events(conn: Connection, shift_id: int) -> list[Any]:
    return list(
        conn.execute(
            text(
                "SELECT e.kind, e.at, e.to_state, e.reason, e.user_name, p.source_id AS staff"
                " FROM checkpoint_events e JOIN staff p ON p.id = e.staff_id"
                " WHERE e.shift_id = :s ORDER BY e.id"
            ),
            {"s": shift_id},
        )
    )


def test_put_on_now_and_taken_off_later_is_there_between(sample_conn: Connection) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    shift = _running_shift(sample_conn, now)
    person = _person(sample_conn, "ops-on-shift", shift.village_id)
    version = show_shift(sample_conn, ADMIN, int(shift.id))["version"]
    on = change_shift_staff(
        sample_conn, ADMIN, int(shift.id), _ask(person, version), on=True, now=now
    )
    assert on["staff"] == [person]
    assert on["staff_count"] == 1  # the head count follows the people
    assert on["version"] == version + 1
    # joined now, not at the shift's start an hour ago
    assert tuple(_hours(sample_conn, shift.id, person)) == (now, now + 7 * H)
    with pytest.raises(StaleVersion):
        change_shift_staff(
            sample_conn, ADMIN, int(shift.id), _ask(person, version), on=True, now=now
        )
    with pytest.raises(OperationRefused, match="staff: already on this shift"):
        change_shift_staff(
            sample_conn, ADMIN, int(shift.id), _ask(person, on["version"]), on=True, now=now
        )
    leaves = now + 3 * H
    off = change_shift_staff(
        sample_conn, ADMIN, int(shift.id), _ask(person, on["version"], leaves), on=False, now=now
    )
    assert tuple(_hours(sample_conn, shift.id, person)) == (now, leaves)
    assert off["staff"] == []  # taken off: no longer counted
    assert off["staff_count"] == 0
    assert off["planned"] == [
        {
            "effective_at": leaves.isoformat(),
            "change": "take_off",
            "staff": person,
            "responsible": person,
            "reason": "r",
            "by": ADMIN.name,
        }
    ]
    kinds = [(e.kind, e.at, e.to_state, e.staff) for e in _events(sample_conn, shift.id)]
    assert kinds == [("staff_on", now, None, person), ("staff_off", leaves, None, person)]


def test_taken_off_before_joining_leaves_only_the_events(sample_conn: Connection) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    shift = _running_shift(sample_conn, now)
    person = _person(sample_conn, "ops-planned", shift.village_id)
    version = show_shift(sample_conn, ADMIN, int(shift.id))["version"]
    joins = now + 2 * H
    on = change_shift_staff(
        sample_conn, ADMIN, int(shift.id), _ask(person, version, joins), on=True, now=now
    )
    assert tuple(_hours(sample_conn, shift.id, person)) == (joins, now + 7 * H)
    assert [p["change"] for p in on["planned"]] == ["put_on"]
    change_shift_staff(
        sample_conn, ADMIN, int(shift.id), _ask(person, on["version"]), on=False, now=now
    )
    assert _hours(sample_conn, shift.id, person) is None
    assert [e.kind for e in _events(sample_conn, shift.id)] == ["staff_on", "staff_off"]


def test_a_change_after_the_shift_or_too_far_back_is_refused(sample_conn: Connection) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    shift = _running_shift(sample_conn, now)
    person = _person(sample_conn, "ops-late", shift.village_id)
    version = show_shift(sample_conn, ADMIN, int(shift.id))["version"]
    with pytest.raises(OperationRefused, match="effective_at: the shift is over by then"):
        change_shift_staff(
            sample_conn, ADMIN, int(shift.id), _ask(person, version, now + 8 * H), on=True, now=now
        )
    with pytest.raises(OperationRefused, match="effective_at: more than 5 minutes in the past"):
        change_shift_staff(
            sample_conn, ADMIN, int(shift.id), _ask(person, version, now - H), on=True, now=now
        )
    assert _events(sample_conn, shift.id) == []
    assert show_shift(sample_conn, ADMIN, int(shift.id))["version"] == version


def test_staffing_events_do_not_change_the_replayed_state(sample_conn: Connection) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    shift = _running_shift(sample_conn, now)
    person = _person(sample_conn, "ops-replay", shift.village_id)
    replay = checkpoint_state_as_of("c", ":m")
    state = text(
        f"SELECT s.state FROM checkpoints c, LATERAL ({replay}) s WHERE c.id = :c"  # noqa: S608 (SQL of as_of.py)
    )
    before = sample_conn.execute(state, {"c": shift.checkpoint_id, "m": now + H}).scalar()
    version = show_shift(sample_conn, ADMIN, int(shift.id))["version"]
    change_shift_staff(sample_conn, ADMIN, int(shift.id), _ask(person, version), on=True, now=now)
    assert before is not None
    assert sample_conn.execute(state, {"c": shift.checkpoint_id, "m": now + H}).scalar() == before
