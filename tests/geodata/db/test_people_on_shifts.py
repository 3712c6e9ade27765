"""People on shifts, held by the database: no person on two overlapping shifts, the head
count follows the people, and a moved shift moves its people's times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geodata.records import shifts

START = datetime(2026, 3, 1, 8, tzinfo=UTC)


def _shift(conn: Connection, checkpoint: int, start: datetime, hours: int) -> int:
    return int(
        conn.execute(
            text("INSERT INTO checkpoint_shifts (source_id, checkpoint_id, starts_at, ends_at, "
                 "staff_count) VALUES (:i, :c, :s, :e, 0) RETURNING id"),
            {"i": f"test:shift/{start.isoformat()}", "c": checkpoint, "s": start,
             "e": start + timedelta(hours=hours)},
        ).scalar_one()
    )  # fmt: skip


def _assign(conn: Connection, shift: int, staff: int) -> None:
    conn.execute(
        text("INSERT INTO shift_staff (shift_id, staff_id) VALUES (:s, :p)"),
        {"s": shift, "p": staff},
    )


def test_no_person_is_on_two_overlapping_shifts(sample_conn: Connection) -> None:
    conn = sample_conn
    checkpoint = conn.execute(text("SELECT id FROM checkpoints ORDER BY id LIMIT 1")).scalar_one()
    one, two = conn.execute(text("SELECT id FROM staff ORDER BY id LIMIT 2")).scalars().all()
    morning = _shift(conn, checkpoint, START, 8)
    overlapping = _shift(conn, checkpoint, START + timedelta(hours=7), 8)
    evening = _shift(conn, checkpoint, START + timedelta(hours=8), 8)
    _assign(conn, morning, one)
    _assign(conn, morning, two)
    _assign(conn, evening, one)  # back to back is not an overlap
    with pytest.raises(IntegrityError, match="shift_staff_no_overlap"), conn.begin_nested():
        _assign(conn, overlapping, one)
    counts: dict[int, int] = dict(
        conn.execute(
            text("SELECT id, staff_count FROM checkpoint_shifts WHERE id = ANY(:i)"),
            {"i": [morning, evening, overlapping]},
        ).all()
    )
    assert counts == {morning: 2, evening: 1, overlapping: 0}
    # taken off through the records' own function: the head count follows
    two_source = conn.execute(text("SELECT source_id FROM staff WHERE id = :p"), {"p": two})
    shifts.unassign(conn, f"test:shift/{START.isoformat()}", two_source.scalar_one())
    assert (
        conn.execute(
            text("SELECT staff_count FROM checkpoint_shifts WHERE id = :s"), {"s": morning}
        ).scalar_one()
        == 1
    )
    # moving the evening shift onto the morning makes its person overlap: refused
    with pytest.raises(IntegrityError, match="shift_staff_no_overlap"), conn.begin_nested():
        conn.execute(
            text("UPDATE checkpoint_shifts SET starts_at = :s, ends_at = :e WHERE id = :i"),
            {"s": START + timedelta(hours=4), "e": START + timedelta(hours=12), "i": evening},
        )


def test_a_state_change_with_its_own_event_is_recorded_once(sample_conn: Connection) -> None:
    conn = sample_conn
    checkpoint = conn.execute(
        text("SELECT id FROM checkpoints WHERE state = 'active' ORDER BY id LIMIT 1")
    ).scalar_one()
    before = conn.execute(
        text("SELECT count(*) FROM checkpoint_events WHERE checkpoint_id = :c"), {"c": checkpoint}
    ).scalar_one()
    conn.execute(text("SELECT set_config('wangge.event_written', 'on', true)"))
    conn.execute(
        text("INSERT INTO checkpoint_events (checkpoint_id, at, from_state, to_state, reason) "
             "VALUES (:c, now(), 'active', 'closed', 'test')"), {"c": checkpoint}
    )  # fmt: skip
    conn.execute(text("UPDATE checkpoints SET state = 'closed' WHERE id = :c"), {"c": checkpoint})
    conn.execute(text("SELECT set_config('wangge.event_written', '', true)"))
    after = conn.execute(
        text("SELECT count(*) FROM checkpoint_events WHERE checkpoint_id = :c"), {"c": checkpoint}
    ).scalar_one()
    assert after == before + 1
    conn.execute(text("UPDATE checkpoints SET state = 'active' WHERE id = :c"), {"c": checkpoint})
    assert (
        conn.execute(
            text("SELECT count(*) FROM checkpoint_events WHERE checkpoint_id = :c"),
            {"c": checkpoint},
        ).scalar_one()
        == before + 2
    )  # an ordinary change is still recorded by the trigger
