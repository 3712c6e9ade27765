"""Shifts and the rota: times checked, overlaps named, the rota idempotent and whole."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text

from geodata.records import people, shifts, town_settings
from geodata.records.refusal import RecordRefused
from geodata.town_time import TOWN_TIMEZONE
from geodata.vocab import StaffRole
from tests import factories as f

T0 = datetime(2026, 3, 1, 8, tzinfo=TOWN_TIMEZONE)
DAY = date(2026, 3, 1)


@pytest.fixture
def town(conn: Connection) -> Connection:
    one = f.village(conn, "V1", f.square(0, 0, 1, 1))
    f.village(conn, "V2", f.square(1, 0, 2, 1))
    conn.execute(
        text("INSERT INTO checkpoints (source_id, name, kind, state, staff_per_shift, radius_m, "
             "village_id, geom) VALUES ('cp1', 'Gate', 'village_gate', 'active', :n, 300, :v, "
             "ST_SetSRID(ST_Point(0.5, 0.5), 4326))"),
        {"n": 2, "v": one},
    )  # fmt: skip
    for i in range(1, 9):
        people.add_staff(conn, f"p{i}", name=f"P{i}", role=StaffRole.CHECKPOINT_STAFF,
                         village="V1")  # fmt: skip
    people.add_staff(conn, "far", name="Far", role=StaffRole.PATROL, village="V2")
    return conn


def test_shift_times_are_checked(town: Connection) -> None:
    with pytest.raises(RecordRefused, match=r"shift 's1': ends_at: not after starts_at"):
        shifts.add_shift(town, "cp1", T0, T0, source_id="s1")
    with pytest.raises(RecordRefused, match=r"shift 's1': ends_at: more than 24 h"):
        shifts.add_shift(town, "cp1", T0, T0 + timedelta(hours=25), source_id="s1")
    with pytest.raises(RecordRefused, match=r"checkpoint 'nope': unknown checkpoint"):
        shifts.add_shift(town, "nope", T0, T0 + timedelta(hours=8), source_id="s1")


def test_an_overlap_names_the_person_and_the_shifts(town: Connection) -> None:
    shifts.add_shift(town, "cp1", T0, T0 + timedelta(hours=8), source_id="morning")
    shifts.add_shift(town, "cp1", T0 + timedelta(hours=4), T0 + timedelta(hours=12),
                     source_id="late")  # fmt: skip
    assert shifts.assign(town, "morning", "p1") is True
    assert shifts.assign(town, "morning", "p1") is False
    with pytest.raises(
        RecordRefused, match=r"staff 'p1': on shift 'morning' already, which overlaps shift 'late'"
    ):
        shifts.assign(town, "late", "p1")
    with pytest.raises(RecordRefused, match=r"staff 'far': village: not the village"):
        shifts.assign(town, "morning", "far")
    shifts.unassign(town, "morning", "p1")
    with pytest.raises(RecordRefused, match=r"staff 'p1': not on shift 'morning'"):
        shifts.unassign(town, "morning", "p1")
    shifts.assign(town, "late", "p1")
    (late,) = shifts.list_shifts(town, start=T0 + timedelta(hours=9))
    assert (late["source_id"], late["staff"], late["staff_count"]) == ("late", ["p1"], 1)


def _rota(conn: Connection, staff: list[str], days: int = 3) -> dict[str, Any]:
    return shifts.make_rota(conn, "cp1", first_day=DAY, days=days, pattern="3x8",
                            staff_source_ids=staff)  # fmt: skip


def test_the_rota_covers_every_shift_within_the_limit_and_twice_changes_nothing(
    town: Connection,
) -> None:
    report = _rota(town, [f"p{i}" for i in range(1, 7)])
    assert report == {"checkpoint": "cp1", "shifts": 9, "created": 9, "changed": 0,
                      "unchanged": 0, "assignments": 18}  # fmt: skip
    rows = shifts.list_shifts(town, checkpoint_source_id="cp1")
    assert rows[0]["source_id"] == "rota:cp1:2026-03-01T00:00:00+08:00"
    assert [r["starts_at"].astimezone(TOWN_TIMEZONE).hour for r in rows[:3]] == [0, 8, 16]
    assert all(len(r["staff"]) == 2 for r in rows)
    hours: dict[str, list[tuple[datetime, datetime]]] = {}
    for r in rows:
        for p in r["staff"]:
            hours.setdefault(p, []).append((r["starts_at"], r["ends_at"]))
    for spans in hours.values():  # nobody over 12 h in any 24 h
        for start, _ in spans:
            held = sum(
                (min(e, start + timedelta(hours=24)) - max(s, start)).total_seconds()
                for s, e in spans
                if s < start + timedelta(hours=24) and e > start
            )
            assert held <= 12 * 3600
    again = _rota(town, [f"p{i}" for i in range(1, 7)])
    assert again == {**report, "created": 0, "unchanged": 9, "assignments": 0}
    assert shifts.list_shifts(town, checkpoint_source_id="cp1") == rows


def test_a_rota_the_staff_cannot_cover_is_refused_whole(town: Connection) -> None:
    with pytest.raises(RecordRefused, match=r"needs 2 person\(s\).*1 of the 5 given.*12 h"):
        _rota(town, [f"p{i}" for i in range(1, 6)])
    with pytest.raises(RecordRefused, match=r"staff 'far': village: not the village"):
        _rota(town, ["p1", "p2", "far"])
    with pytest.raises(RecordRefused, match=r"staff 'ghost': unknown staff"):
        _rota(town, ["p1", "ghost"])
    assert town.execute(text("SELECT count(*) FROM checkpoint_shifts")).scalar_one() == 0
    # a longer limit lets fewer people keep the same slot every day
    town_settings.set_setting(town, "hours_limit_per_person", "16", actor="t")
    assert _rota(town, [f"p{i}" for i in range(1, 7)], days=1)["created"] == 3


def test_a_rota_around_existing_shifts_and_with_other_people(town: Connection) -> None:
    shifts.add_shift(town, "cp1", T0 - timedelta(hours=8), T0, source_id="night")
    shifts.assign(town, "night", "p1")  # 00:00-08:00 on the first day, outside the rota
    _rota(town, [f"p{i}" for i in range(1, 9)], days=1)
    first = shifts.list_shifts(town, start=T0 - timedelta(hours=8), end=T0)
    assert "p1" not in [p for r in first if r["source_id"] != "night" for p in r["staff"]]
    report = _rota(town, [f"p{i}" for i in range(2, 9)], days=1)
    assert report["created"] == 0
    assert report["shifts"] == report["changed"] + report["unchanged"]
