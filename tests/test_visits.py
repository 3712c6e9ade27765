"""Households due today, checked against an independent pandas computation on the sample town."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, text

from geodata.access import Principal
from geodata.town_time import TOWN_TIMEZONE
from geodata.visits import due_today
from geodata.vocab import Role


def test_due_today_matches_the_rules(sample_conn: Connection) -> None:
    grid_id, code = sample_conn.execute(
        text(
            "SELECT g.id, g.code FROM grids g JOIN households h ON h.grid_id = g.id "
            "WHERE h.status = 'home_quarantine' GROUP BY g.id ORDER BY count(*) DESC LIMIT 1"
        )
    ).one()
    households = pd.read_sql(
        text("SELECT id, status FROM households WHERE grid_id = :g"), sample_conn,
        params={"g": grid_id},
    )  # fmt: skip
    visits = pd.read_sql(
        text("SELECT household_id, visited_at FROM visits WHERE grid_id = :g"), sample_conn,
        params={"g": grid_id},
    )  # fmt: skip
    day = datetime.now(TOWN_TIMEZONE).date()
    start = pd.Timestamp(day, tz=TOWN_TIMEZONE)
    end = start + timedelta(days=1)
    at = pd.to_datetime(visits["visited_at"], utc=True)
    today = visits[(at >= start) & (at < end)].groupby("household_id").size()
    last = visits[at < end].assign(at=at).groupby("household_id")["at"].max()
    expected = set()
    for hid, status in households.itertuples(index=False):
        if status == "home_quarantine":
            if today.get(hid, 0) < 2:
                expected.add(hid)
        elif hid not in last.index or last[hid] < start - timedelta(days=13):
            expected.add(hid)

    worker = Principal(name="w", role=Role.GRID_WORKER, grid_ids=frozenset({int(grid_id)}))
    rows = due_today(sample_conn, worker, day=day, limit=5000)
    assert expected, "the sample town has households due today"
    assert {r["id"] for r in rows} == expected
    assert {r["grid"] for r in rows} <= {code}
    reasons = [r["reason"] for r in rows]
    assert reasons == sorted(reasons, key=lambda r: r != "quarantine")  # quarantine first
