"""The 18:00 summary on the sample town with a frozen clock: the town's households seen
against an independent count of the day's seen visits, the villages summing to the town,
frozen once issued (later amendments listed, never recomputed), the CSV with the same
numbers, planners' figures through the disclosure rules."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

from sqlalchemy import Connection, text

from geodata.auth.access import Principal, local_operator
from geodata.records import daily_summary
from geodata.records.town_settings import town_timezone
from geodata.services.daily_summary import summary
from geodata.vocab import Role

ADMIN = local_operator("tester")
PLANNER = Principal(name="p", role=Role.PLANNER)


def _yesterday(conn: Connection) -> tuple[object, datetime, datetime]:
    zone = town_timezone(conn)
    day = datetime.now(zone).date() - timedelta(days=1)
    return day, datetime.combine(day, time(17), zone), datetime.combine(day, time(18, 30), zone)


def test_the_summary_counts_and_freezes(sample_conn: Connection) -> None:
    day, before_six, after_six = _yesterday(sample_conn)
    zone = town_timezone(sample_conn)
    start = datetime.combine(day, time(), zone)  # type: ignore[arg-type]
    seen = sample_conn.execute(
        text(
            "SELECT count(DISTINCT household_id) FROM visits WHERE visited_at >= :a"
            " AND visited_at <= :b AND result IN ('seen_all', 'partial')"
        ),
        {"a": start, "b": before_six},  # as of 17:00
    ).scalar_one()
    live = daily_summary.summary(sample_conn, day, before_six)  # type: ignore[arg-type]
    assert live["frozen"] is False
    assert live["town"]["households_seen"] == seen > 0
    assert sum(v["households_seen"] for v in live["villages"]) == seen
    households = sample_conn.execute(text("SELECT count(*) FROM households")).scalar_one()
    assert live["town"]["households"] == households
    assert len(live["series"]) == 14
    assert live["series"][-1]["in_quarantine"] == live["town"]["in_quarantine"]
    assert live["map_svg"].startswith("<svg")
    issued = daily_summary.summary(sample_conn, day, after_six)  # type: ignore[arg-type]
    assert issued["frozen"] is True
    # a visit arriving later changes nothing in the issued summary
    sample_conn.execute(
        text(
            "INSERT INTO visits (source_id, household_id, grid_id, visited_at, result)"
            " SELECT 'late-summary-test', h.id, h.grid_id, :at, 'seen_all' FROM households h"
            " WHERE NOT EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id"
            " AND v.visited_at >= :a) ORDER BY h.id LIMIT 1"
        ),
        {"at": start + timedelta(hours=10), "a": start},
    )
    again = daily_summary.summary(sample_conn, day, after_six + timedelta(hours=3))  # type: ignore[arg-type]
    assert again["town"] == issued["town"]
    assert again["issued_at"] == issued["issued_at"]
    rows = list(csv.reader(io.StringIO(daily_summary.as_csv(issued))))
    assert len(rows) == 1 + len(issued["villages"]) + 1
    town_row = dict(zip(rows[0], rows[-1], strict=True))
    assert int(town_row["households_seen"]) == issued["town"]["households_seen"]


def test_planners_read_published_figures(sample_conn: Connection) -> None:
    day, _, after_six = _yesterday(sample_conn)
    exact = summary(sample_conn, ADMIN, day, now=after_six)  # type: ignore[arg-type]
    published = summary(sample_conn, PLANNER, day, now=after_six)  # type: ignore[arg-type]
    assert exact["disclosure"] == "exact"
    assert published["disclosure"] == "published"
    assert "map_svg" not in published
    values = [v for row in published["villages"] for k, v in row.items()
              if k not in ("village", "name")]  # fmt: skip
    assert values
    assert all(v is None or v % 5 == 0 for v in values)
