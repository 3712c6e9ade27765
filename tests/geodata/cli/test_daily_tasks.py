"""`wangge daily tasks` on the sample town: two workers of one grid share its due households
(each exactly once, checked against plain Python over the visit rows), their minutes as
balanced as a cut of the walking order allows, addresses and no source ids; a grid worker
gets their own list only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from geodata.town_time import TOWN_TIMEZONE
from tests.conftest import TestDatabase
from tests.geodata.cli.test_accounts import invoke


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    return throwaway_sample_db


def _json(db: TestDatabase, *args: str) -> Any:
    result = invoke(db, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def _due_by_python(db: TestDatabase, grid: str, day: date) -> set[int]:
    """Households of the grid not seen within 14 days before the day, plus those with a
    person in home quarantine or observation during the day."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=TOWN_TIMEZONE)
    with db.owner.connect() as conn:
        households = set(
            conn.execute(
                text("SELECT h.id FROM households h JOIN grids g ON g.id = h.grid_id"
                     " WHERE g.code = :g"),
                {"g": grid},
            ).scalars()
        )  # fmt: skip
        visits = conn.execute(
            text("SELECT household_id, visited_at, result FROM visits"
                 " WHERE household_id = ANY(:h)"),
            {"h": sorted(households)},
        ).all()  # fmt: skip
        quarantined = conn.execute(
            text("SELECT r.household_id, q.starts_at, coalesce(q.released_at, q.ends_at) AS e,"
                 " q.type FROM quarantines q JOIN residents r ON r.id = q.resident_id"
                 " WHERE r.household_id = ANY(:h)"),
            {"h": sorted(households)},
        ).all()  # fmt: skip
    seen = {
        v.household_id
        for v in visits
        if v.result in ("seen_all", "partial")
        and start - timedelta(days=14) <= v.visited_at < start
    }
    end = start + timedelta(days=1)
    checks = {
        q.household_id
        for q in quarantined
        if q.type != "concentrated" and q.starts_at < end and q.e > start
    }
    return (households - seen) | checks


def test_two_workers_share_a_grid(town: TestDatabase) -> None:
    with town.owner.connect() as conn:
        grid = str(
            conn.execute(
                text(
                    "SELECT g.code FROM grids g JOIN households h ON h.grid_id = g.id"
                    " GROUP BY g.code ORDER BY count(*) DESC, g.code LIMIT 1"
                )
            ).scalar_one()
        )
    for name in ("tw-a", "tw-b"):
        assert invoke(town, "users", "add", name, "--role", "grid_worker", "--grids",
                      grid).exit_code == 0  # fmt: skip
    with town.owner.connect() as conn:
        last: datetime = conn.execute(text("SELECT max(visited_at) FROM visits")).scalar_one()
    day = last.astimezone(TOWN_TIMEZONE).date() + timedelta(days=1)
    found = _json(town, "daily", "tasks", "--date", day.isoformat(), "--at",
                  f"{day - timedelta(days=1)}T19:00")  # fmt: skip
    assert found["source"] == "live"
    lists = {w["worker"]: w for w in found["workers"] if grid in w["grids"]}
    assert set(lists) == {"tw-a", "tw-b"}
    households = [s["household"] for w in lists.values() for s in w["stops"]]
    assert len(households) == len(set(households))
    assert set(households) == _due_by_python(town, grid, day)
    a, b = lists["tw-a"], lists["tw-b"]
    assert a["stops"]
    assert b["stops"]
    biggest = max(s["minutes"] for w in (a, b) for s in w["stops"])
    # a cut of the walking order: the two differ by at most one stop and its walk
    assert abs(a["minutes"] - b["minutes"]) <= biggest + max(a["minutes"], b["minutes"]) / 2
    for w in (a, b):
        assert w["minutes"] == pytest.approx(
            w["visit_minutes"] + w["walk_m"] / found["walk_m_per_min"], abs=0.2
        )
    text_out = orjson.dumps(found).decode()
    assert "sample:" not in text_out
    assert "osm:" not in text_out
    assert all(s["address"] and s["address"]["village"] for s in a["stops"])

    own = _json(town, "--as", "tw-a", "daily", "tasks", "--date", day.isoformat())
    assert [w["worker"] for w in own["workers"]] == ["tw-a"]
    other = invoke(town, "--as", "tw-a", "daily", "tasks", "--date", day.isoformat(),
                   "--worker", "tw-b")  # fmt: skip
    assert other.exit_code == 1
    assert "tw-b" in other.stderr
