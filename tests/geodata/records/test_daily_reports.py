"""The daily reports' records on the sample town (rolled back): units named by kind and key,
corrections checked, a day not begun refused, the clock settings, and every figure of a unit
against plain Python over the same rows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, text

from geodata.records import daily_reports as records
from geodata.records import town_settings
from geodata.records.refusal import RecordRefused
from geodata.town_time import TOWN_TIMEZONE


def _last_day(conn: Connection) -> datetime:
    last: datetime = conn.execute(text("SELECT max(visited_at) FROM visits")).scalar_one()
    return last.astimezone(TOWN_TIMEZONE)


def test_units_and_their_names(sample_conn: Connection) -> None:
    day = _last_day(sample_conn).date()
    units = records.expected_units(sample_conn, day)
    kinds = [u.kind for u in units]
    assert kinds == sorted(kinds, key=records.KINDS.index)
    grid = next(u for u in units if u.kind == "grid")
    assert records.find_unit(sample_conn, day, grid.key) == grid
    assert records.find_unit(sample_conn, day, f"grid:{grid.key}") == grid
    with pytest.raises(RecordRefused, match="not an expected unit"):
        records.find_unit(sample_conn, day, "no-such-unit")
    with pytest.raises(RecordRefused, match="kind: one of"):
        records.find_unit(sample_conn, day, grid.key, "household")


def test_corrections_are_checked() -> None:
    assert records.corrections_from({"fever": "2", "returnees": 0}, "u") == {
        "fever": 2,
        "returnees": 0,
    }
    for bad, reason in (
        ({"names": 1}, "unknown figure"),
        ({"fever": -1}, "between 0"),
        ({"fever": "two"}, "whole number"),
        ({"fever": True}, "whole number"),
        ({"fever": 1.5}, "whole number"),
    ):
        with pytest.raises(RecordRefused, match=reason):
            records.corrections_from(bad, "u")


def test_a_day_not_begun_and_a_zero_report_with_corrections(sample_conn: Connection) -> None:
    now = _last_day(sample_conn)
    grid = next(u for u in records.expected_units(sample_conn, now.date()) if u.kind == "grid")
    with pytest.raises(RecordRefused, match="has not begun"):
        records.confirm(sample_conn, grid, now.date() + timedelta(days=1), now, actor="t")
    with pytest.raises(RecordRefused, match="zero report has no corrections"):
        records.confirm(sample_conn, grid, now.date(), now, actor="t", zero=True,
                        corrections={"fever": 1})  # fmt: skip
    with pytest.raises(RecordRefused, match="no report to amend"):
        records.amend(sample_conn, grid, now.date(), now, actor="t", note="x")


def test_the_clock_settings(sample_conn: Connection) -> None:
    day = _last_day(sample_conn).date()
    assert records.clock_time(sample_conn, day, "report_time").hour == 16
    town_settings.set_setting(sample_conn, "report_time", "15:30", actor="t")
    moment = records.clock_time(sample_conn, day, "report_time")
    assert (moment.hour, moment.minute, moment.tzinfo) == (15, 30, TOWN_TIMEZONE)
    with pytest.raises(RecordRefused, match="HH:MM"):
        town_settings.set_setting(sample_conn, "tasks_time", "25:00", actor="t")
    assert town_settings.setting(sample_conn, "minutes_per_visit") == 10


def test_a_villages_figures_against_python(sample_conn: Connection) -> None:
    now = _last_day(sample_conn)
    day = now.date()
    village = next(u for u in records.expected_units(sample_conn, day) if u.kind == "village")
    figures = records.unit_figures(sample_conn, day, now, [village])[("village", village.key)]
    start = datetime.combine(day, datetime.min.time(), tzinfo=TOWN_TIMEZONE)
    grids = set(village.grid_ids)
    visits = sample_conn.execute(
        text("SELECT v.household_id, v.visited_at, v.result, v.people_seen, h.grid_id"
             " FROM visits v JOIN households h ON h.id = v.household_id")
    ).all()  # fmt: skip
    best: dict[int, int] = {}
    for v in visits:
        if (v.grid_id in grids and v.result in ("seen_all", "partial")
                and start <= v.visited_at <= now):  # fmt: skip
            best[v.household_id] = max(best.get(v.household_id, 0), v.people_seen or 0)
    assert figures["households_seen"] == len(best)
    assert figures["people_counted"] == sum(best.values())
    quarantines = sample_conn.execute(
        text("SELECT grid_id, starts_at, coalesce(released_at, ends_at) AS e FROM quarantines")
    ).all()
    assert figures["in_quarantine"] == sum(
        1 for q in quarantines if q.grid_id in grids and q.starts_at < now and q.e > start
    )
    shifts = sample_conn.execute(
        text("SELECT checkpoint_id, starts_at, ends_at, staff_count FROM checkpoint_shifts")
    ).all()
    staffed = {s.checkpoint_id for s in shifts
               if s.staff_count > 0 and s.starts_at < now and s.ends_at > start}  # fmt: skip
    mine = {
        int(p.id)
        for p in records.places(sample_conn)
        if p.kind == "checkpoint" and (p.village_id == village.village_id or p.grid_id in grids)
    }
    assert figures["checkpoints_staffed"] == len(mine & staffed)
