"""`wangge daily reports|report|amend` on the sample town: the contract's keys, every expected
unit (grids with households, villages, combat units), reported / zero / late / missing, the
rates, a second confirmation refused, an audited amendment, another unit refused, and
visits that arrive after the confirmation carried into the next day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from geodata.records.daily_reports import FIGURES
from geodata.town_time import TOWN_TIMEZONE
from tests.conftest import TestDatabase
from tests.geodata.cli.test_accounts import invoke


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    return throwaway_sample_db


def _last_day(db: TestDatabase) -> date:
    with db.owner.connect() as conn:
        last: datetime = conn.execute(text("SELECT max(visited_at) FROM visits")).scalar_one()
    return last.astimezone(TOWN_TIMEZONE).date()


def _json(db: TestDatabase, *args: str) -> Any:
    result = invoke(db, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def _expected(db: TestDatabase) -> set[tuple[str, str]]:
    with db.owner.connect() as conn:
        grids = conn.execute(
            text(
                "SELECT code FROM grids g WHERE EXISTS"
                " (SELECT 1 FROM households h WHERE h.grid_id = g.id)"
            )
        ).scalars()
        villages = conn.execute(text("SELECT code FROM villages")).scalars()
        units = conn.execute(
            text("SELECT source_id FROM teams WHERE kind = 'combat_unit' AND retired_at IS NULL")
        ).scalars()
        return (
            {("grid", g) for g in grids}
            | {("village", v) for v in villages}
            | {("combat_unit", u) for u in units}
        )


def _seen_by_python(
    db: TestDatabase, grid: str, day: date, upto: int | None = None, until: str | None = None
) -> int:
    """Households of a grid with a seen visit on a town day: plain Python over the rows."""
    with db.owner.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT v.id, v.household_id, v.visited_at, v.result FROM visits v"
                " JOIN households h ON h.id = v.household_id JOIN grids g ON g.id = h.grid_id"
                " WHERE g.code = :g"
            ),
            {"g": grid},
        ).all()
    return len(
        {
            r.household_id
            for r in rows
            if r.visited_at.astimezone(TOWN_TIMEZONE).date() == day
            and r.result in ("seen_all", "partial")
            and (upto is None or r.id <= upto)
            and (
                until is None
                or r.visited_at <= datetime.fromisoformat(until).replace(tzinfo=TOWN_TIMEZONE)
            )
        }
    )


def _unit(report: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    (found,) = (u for u in report["units"] if (u["kind"], u["unit"]) == (kind, key))
    return dict(found)


def _busiest_grid(db: TestDatabase, day: date) -> str:
    start = datetime.combine(day, datetime.min.time(), tzinfo=TOWN_TIMEZONE)
    with db.owner.connect() as conn:
        return str(
            conn.execute(
                text(
                    "SELECT g.code FROM visits v JOIN households h ON h.id = v.household_id"
                    " JOIN grids g ON g.id = h.grid_id WHERE v.visited_at >= :s"
                    " AND v.visited_at < :e GROUP BY g.code ORDER BY count(*) DESC, g.code LIMIT 1"
                ),
                {"s": start, "e": start + timedelta(days=1)},
            ).scalar_one()
        )


def test_reports_of_a_day(town: TestDatabase) -> None:
    day = _last_day(town)
    grid = _busiest_grid(town, day)
    report = _json(town, "daily", "reports", "--date", day.isoformat(),
                   "--at", f"{day}T15:00")  # fmt: skip
    assert {"expected", "reported", "on_time", "units"} <= set(report)
    expected = _expected(town)
    assert report["expected"] == len(expected)
    assert {(u["kind"], u["unit"]) for u in report["units"]} == expected
    assert (report["reported"], report["on_time"]) == (0, 0)
    unit = _unit(report, "grid", grid)
    assert unit["status"] == "missing"
    assert set(unit["figures"]) == set(FIGURES)
    assert unit["figures"]["households_seen"] == _seen_by_python(
        town, grid, day, until=f"{day}T15:00"
    )
    assert unit["figures"]["households_seen"] > 0

    made = _json(town, "daily", "report", grid, "--date", day.isoformat(), "--at",
                 f"{day}T15:00", "--note", "all quiet")  # fmt: skip
    assert made["status"] == "reported"
    village = _json(town, "daily", "reports", "--date", day.isoformat())["units"]
    first_village = next(u["unit"] for u in village if u["kind"] == "village")
    zero = _json(town, "daily", "report", f"village:{first_village}", "--date",
                 day.isoformat(), "--zero", "--at", f"{day}T15:30")  # fmt: skip
    assert zero["status"] == "zero"
    combat = next(u["unit"] for u in village if u["kind"] == "combat_unit")
    late = _json(town, "daily", "report", combat, "--kind", "combat_unit", "--date",
                 day.isoformat(), "--at", f"{day}T17:05")  # fmt: skip
    assert late["status"] == "late"
    after = _json(town, "daily", "reports", "--date", day.isoformat(), "--at", f"{day}T18:00")
    assert (after["reported"], after["on_time"]) == (3, 2)
    assert after["reporting_rate"] == round(3 / len(expected), 4)
    assert after["timeliness"] == round(2 / len(expected), 4)
    statuses = {u["status"] for u in after["units"]}
    assert statuses == {"missing", "zero", "reported", "late"}


def test_a_change_is_an_audited_amendment(town: TestDatabase) -> None:
    day = _last_day(town) - timedelta(days=1)
    grid = _busiest_grid(town, day)
    first = _json(town, "daily", "report", grid, "--date", day.isoformat(),
                  "--at", f"{day}T15:00", "--correct", "returnees=2")  # fmt: skip
    assert first["figures"]["returnees"] == 2
    again = invoke(town, "daily", "report", grid, "--date", day.isoformat(),
                   "--at", f"{day}T15:10", "--correct", "returnees=3")  # fmt: skip
    assert again.exit_code == 1
    assert "amendment" in again.stderr
    assert f"grid {grid}" in again.stderr
    amended = _json(town, "daily", "amend", grid, "--date", day.isoformat(),
                    "--correct", "returnees=3", "--note", "one more arrived")  # fmt: skip
    assert amended["figures"]["returnees"] == 3
    assert amended["amendments"] == 1
    nothing = invoke(town, "daily", "amend", grid, "--date", day.isoformat())
    assert nothing.exit_code == 1
    with town.owner.connect() as conn:
        actions = conn.execute(
            text(
                "SELECT action FROM audit_events WHERE object_type = 'daily_report'"
                " AND object_ids[1] = :i ORDER BY id"
            ),
            {"i": first["id"]},
        ).scalars()
        assert list(actions) == ["daily_report", "daily_amend"]
    bad = invoke(town, "daily", "report", grid, "--date", (day - timedelta(days=1)).isoformat(),
                 "--correct", "names=1")  # fmt: skip
    assert bad.exit_code == 1
    assert "unknown figure" in bad.stderr


def test_a_unit_that_is_not_yours_is_refused(town: TestDatabase) -> None:
    with town.owner.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT g.code, s.source_id FROM grids g JOIN staff s ON s.id = g.leader_id"
                " WHERE EXISTS (SELECT 1 FROM households h WHERE h.grid_id = g.id)"
                " ORDER BY g.code LIMIT 2"
            )
        ).all()
    (mine, leader), (theirs, _) = rows
    assert invoke(town, "users", "add", "leader1", "--role", "grid_worker", "--grids",
                  mine).exit_code == 0  # fmt: skip
    assert invoke(town, "users", "link", "leader1", "--staff", leader).exit_code == 0
    refused = invoke(town, "--as", "leader1", "daily", "report", theirs)
    assert refused.exit_code == 1
    assert f"grid {theirs}: not your unit" in refused.stderr
    no_clock = invoke(town, "--as", "leader1", "daily", "report", mine, "--at", "2026-01-01T10:00")
    assert no_clock.exit_code == 1
    ok = invoke(town, "--as", "leader1", "daily", "report", mine, "--format", "json")
    assert ok.exit_code == 0, ok.output
    own = _json(town, "--as", "leader1", "daily", "reports")
    assert {u["unit"] for u in own["units"] if u["kind"] == "grid"} == {mine}


def test_visits_after_the_confirmation_count_the_next_day(town: TestDatabase) -> None:
    day = _last_day(town) - timedelta(days=2)
    grid = _busiest_grid(town, day)
    made = _json(town, "daily", "report", grid, "--date", day.isoformat(),
                 "--at", f"{day}T15:00")  # fmt: skip
    seen = made["figures"]["households_seen"]
    assert seen == _seen_by_python(town, grid, day, until=f"{day}T15:00")
    with town.owner.begin() as conn:
        unseen = conn.execute(
            text(
                "SELECT h.id, h.grid_id FROM households h JOIN grids g ON g.id = h.grid_id"
                " WHERE g.code = :g AND NOT EXISTS (SELECT 1 FROM visits v"
                " WHERE v.household_id = h.id AND v.visited_at >= :s AND v.visited_at < :e)"
                " ORDER BY h.id LIMIT 1"
            ),
            {
                "g": grid,
                "s": datetime.combine(day - timedelta(days=1), datetime.min.time(),
                                      tzinfo=TOWN_TIMEZONE),
                "e": datetime.combine(day + timedelta(days=2), datetime.min.time(),
                                      tzinfo=TOWN_TIMEZONE),
            },
        ).one()  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO visits (source_id, household_id, grid_id, visited_at, result,"
                " people_seen) VALUES ('test:late-visit', :h, :g, :at, 'seen_all', 2)"
            ),
            {"h": unseen.id, "g": unseen.grid_id,
             "at": datetime.combine(day, datetime.min.time(), tzinfo=TOWN_TIMEZONE)
             + timedelta(hours=14)},
        )  # fmt: skip
    still = _json(town, "daily", "reports", "--date", day.isoformat(), "--at", f"{day}T20:00")
    assert _unit(still, "grid", grid)["figures"]["households_seen"] == seen
    nxt = day + timedelta(days=1)
    next_day = _json(town, "daily", "reports", "--date", nxt.isoformat(), "--at", f"{nxt}T23:00")
    carried = _unit(next_day, "grid", grid)["figures"]["households_seen"]
    assert carried == _seen_by_python(town, grid, nxt) + 1
    taken = _json(town, "daily", "amend", grid, "--date", day.isoformat(), "--take-in",
                  "--at", f"{day}T21:00")  # fmt: skip
    assert taken["figures"]["households_seen"] == _seen_by_python(
        town, grid, day, until=f"{day}T21:00"
    )
    assert taken["figures"]["households_seen"] >= seen + 1
    next_day = _json(town, "daily", "reports", "--date", nxt.isoformat(), "--at", f"{nxt}T23:00")
    assert _unit(next_day, "grid", grid)["figures"]["households_seen"] == _seen_by_python(
        town, grid, nxt
    )
