"""A 16:00/18:00/19:00 day with a frozen clock (`wangge daily run --at`): each step once, at
its time; a second run and a run while another holds the lock change nothing; the rates, the
18:00 snapshot and the stored task lists checked against plain Python over the same rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from geodata.services.daily_clock import LOCK_CLASS, LOCK_KEY
from geodata.town_time import TOWN_TIMEZONE
from tests.conftest import TestDatabase
from tests.geodata.cli.test_accounts import invoke
from tests.geodata.cli.test_daily_tasks import _due_by_python


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    return throwaway_sample_db


def _json(db: TestDatabase, *args: str) -> Any:
    result = invoke(db, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def _state(db: TestDatabase) -> list[Any]:
    with db.owner.connect() as conn:
        return [
            conn.execute(text(f"SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t::text), "  # noqa: S608 (test tables)
                              f"'[]') FROM {table} t")).scalar_one()
            for table in ("daily_runs", "daily_reports", "daily_task_lists", "daily_summaries")
        ]  # fmt: skip


def _python_expected(db: TestDatabase) -> list[tuple[str, str]]:
    with db.owner.connect() as conn:
        households = conn.execute(text("SELECT grid_id FROM households")).scalars().all()
        grids = conn.execute(text("SELECT id, code FROM grids")).all()
        villages = conn.execute(text("SELECT code FROM villages")).scalars().all()
        teams = conn.execute(text("SELECT source_id, kind, retired_at FROM teams")).all()
    settled = set(households)
    return (
        [("grid", str(g.code)) for g in grids if g.id in settled]
        + [("village", str(v)) for v in villages]
        + [("combat_unit", str(t.source_id)) for t in teams
           if t.kind == "combat_unit" and t.retired_at is None]
    )  # fmt: skip


def _seen(db: TestDatabase, grid: str, day: date, until: datetime) -> int:
    with db.owner.connect() as conn:
        rows = conn.execute(
            text("SELECT v.household_id, v.visited_at, v.result FROM visits v JOIN households h"
                 " ON h.id = v.household_id JOIN grids g ON g.id = h.grid_id WHERE g.code = :g"),
            {"g": grid},
        ).all()  # fmt: skip
    return len(
        {
            r.household_id
            for r in rows
            if r.result in ("seen_all", "partial")
            and r.visited_at.astimezone(TOWN_TIMEZONE).date() == day
            and r.visited_at <= until
        }
    )


def test_a_day_with_a_frozen_clock(town: TestDatabase) -> None:
    with town.owner.connect() as conn:
        last: datetime = conn.execute(text("SELECT max(visited_at) FROM visits")).scalar_one()
        grid = str(
            conn.execute(
                text("SELECT g.code FROM grids g JOIN households h ON h.grid_id = g.id"
                     " GROUP BY g.code ORDER BY count(*) DESC, g.code LIMIT 1")
            ).scalar_one()
        )  # fmt: skip
    day = last.astimezone(TOWN_TIMEZONE).date()

    def at(hhmm: str) -> str:
        return f"{day}T{hhmm}"

    expected = _python_expected(town)
    village = next(k for kind, k in expected if kind == "village")
    combat = next(k for kind, k in expected if kind == "combat_unit")
    assert invoke(town, "users", "add", "clock-w1", "--role", "grid_worker", "--grids",
                  grid).exit_code == 0  # fmt: skip
    assert invoke(town, "users", "add", "clock-w2", "--role", "grid_worker", "--grids",
                  grid).exit_code == 0  # fmt: skip

    early = _json(town, "daily", "run", "--at", at("15:00"))
    assert (early["done"], early["pending"]) == ([], ["reports", "summary", "tasks"])
    _json(town, "daily", "report", grid, "--date", str(day), "--at", at("15:10"))
    _json(town, "daily", "report", f"village:{village}", "--zero", "--date", str(day),
          "--at", at("15:50"))  # fmt: skip

    four = _json(town, "daily", "run", "--at", at("16:00"))
    assert four["done"] == ["reports"]
    before = _state(town)
    assert _json(town, "daily", "run", "--at", at("16:00"))["done"] == []
    assert _state(town) == before
    with town.owner.connect() as conn:
        kept = conn.execute(
            text("SELECT detail FROM daily_runs WHERE day = :d AND step = 'reports'"), {"d": day}
        ).scalar_one()
        frozen = conn.execute(
            text("SELECT count(*) FROM daily_reports WHERE day = :d AND frozen_at IS NOT NULL"),
            {"d": day},
        ).scalar_one()
    assert (kept["expected"], kept["reported"], kept["on_time"]) == (len(expected), 2, 2)
    assert frozen == 2

    _json(town, "daily", "report", combat, "--kind", "combat_unit", "--date", str(day),
          "--at", at("17:30"))  # fmt: skip
    six = _json(town, "daily", "run", "--at", at("18:00"))
    assert six["done"] == ["summary"]
    assert six["already"] == ["reports"]
    with town.owner.connect() as conn:
        summary = conn.execute(
            text("SELECT detail FROM daily_runs WHERE day = :d AND step = 'summary'"), {"d": day}
        ).scalar_one()
    assert (summary["expected"], summary["reported"], summary["on_time"]) == (
        len(expected), 3, 2
    )  # fmt: skip
    assert summary["issued_at"] == f"{at('18:00')}:00+08:00"
    with town.owner.connect() as conn:
        issued = conn.execute(
            text("SELECT issued_at FROM daily_summaries WHERE day = :d"), {"d": day}
        ).scalar_one()
    assert issued == datetime.fromisoformat(at("18:00")).replace(tzinfo=TOWN_TIMEZONE)
    statuses = {(u["kind"], u["unit"]): u["status"] for u in summary["units"]}
    assert statuses[("grid", grid)] == "reported"
    assert statuses[("village", village)] == "zero"
    assert statuses[("combat_unit", combat)] == "late"
    assert sum(s == "missing" for s in statuses.values()) == len(expected) - 3
    (mine,) = (u for u in summary["units"] if (u["kind"], u["unit"]) == ("grid", grid))
    confirmed_at = datetime.fromisoformat(at("15:10")).replace(tzinfo=TOWN_TIMEZONE)
    assert mine["figures"]["households_seen"] == _seen(town, grid, day, confirmed_at)

    seven = _json(town, "daily", "run", "--at", at("19:00"))
    assert seven["done"] == ["tasks"]
    before = _state(town)
    again = _json(town, "daily", "run", "--at", at("19:30"))
    assert (again["done"], again["already"]) == ([], ["reports", "summary", "tasks"])
    assert _state(town) == before
    tomorrow = day + timedelta(days=1)
    lists = _json(town, "daily", "tasks", "--date", str(tomorrow))
    assert lists["source"] == "snapshot"
    ours = [w for w in lists["workers"] if w["worker"] in ("clock-w1", "clock-w2")]
    assert len(ours) == 2
    stops = [s["household"] for w in ours for s in w["stops"]]
    assert len(stops) == len(set(stops))
    assert set(stops) == _due_by_python(town, grid, tomorrow)

    with town.owner.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:c, :k)"), {"c": LOCK_CLASS, "k": LOCK_KEY})
        held = _json(town, "daily", "run", "--at", f"{tomorrow}T19:00")
        holder.execute(text("SELECT pg_advisory_unlock(:c, :k)"), {"c": LOCK_CLASS, "k": LOCK_KEY})
    assert (held["locked"], held["done"]) == (False, [])
    assert _state(town) == before
