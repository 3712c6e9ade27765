"""The clock that `wangge serve` keeps: one tick does what is due (as `wangge daily run`),
and the next run finds it done."""

from __future__ import annotations

import threading

from sqlalchemy import text

from geodata.maps import hexagon_cache
from geodata.records.town_settings import set_setting
from geodata.services import caches
from geodata.services.daily_clock import keep_time, run
from tests.conftest import TestDatabase


def test_one_tick_runs_what_is_due(throwaway_sample_db: TestDatabase) -> None:
    with throwaway_sample_db.owner.begin() as conn:  # every step due at any hour of the day
        for key in ("report_time", "summary_time", "tasks_time"):
            set_setting(conn, key, "00:00", actor="test")
    stop = threading.Event()
    stop.set()  # one tick, then stop
    keep_time(throwaway_sample_db.owner, 60.0, stop)
    with throwaway_sample_db.owner.begin() as conn:
        again = run(conn)
        rows = conn.execute(
            text("SELECT count(*) FROM daily_runs WHERE day = :d"), {"d": again["day"]}
        ).scalar_one()
    assert again["done"] == []  # the tick did it
    assert len(again["already"]) == rows
    assert set(again["already"]) == {"reports", "summary", "tasks"}
    # and the map's caches are up to date: nothing left for the first view to compute
    with throwaway_sample_db.owner.begin() as conn:
        assert not hexagon_cache.is_stale(conn)
        assert caches.refresh(throwaway_sample_db.owner)["coverage"] == {
            "structural": 0,
            "visits": 0,
        }
