"""Screening campaigns on the sample town: progress per grid against an independent
computation in pandas over the same rows, behind pace at known moments, the edges of the
period, the cap on people counted, and every refusal named."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, text

from geodata.records import campaigns as records
from geodata.records.campaigns import NewCampaign
from geodata.records.refusal import RecordRefused
from geodata.town_time import TOWN_TIMEZONE


def villages(conn: Connection, n: int) -> list[str]:
    return [
        str(v)
        for v in conn.execute(text("SELECT code FROM villages ORDER BY code LIMIT :n"), {"n": n})
        .scalars()
        .all()
    ]


def last_visit(conn: Connection) -> datetime:
    found: datetime = conn.execute(text("SELECT max(visited_at) FROM visits")).scalar_one()
    return found.astimezone(TOWN_TIMEZONE)


def give_people_seen(conn: Connection) -> None:
    """people_seen on most visits, as a phone would send them: all the household's residents
    for a seen-all visit, fewer for a partial one, some more than registered (a guest), some
    missing, and a number on nobody-home visits (which never count)."""
    conn.execute(
        text(
            "UPDATE visits v SET people_seen = CASE"
            " WHEN v.id % 11 = 0 THEN NULL"
            " WHEN v.id % 13 = 0 THEN r.people + 2"
            " WHEN v.result = 'seen_all' THEN r.people"
            " WHEN v.result = 'partial' THEN greatest(r.people - 1 - (v.id % 2)::int, 0)"
            " ELSE 1 END"
            " FROM (SELECT h.id, count(x.id)::int AS people FROM households h"
            " LEFT JOIN residents x ON x.household_id = h.id GROUP BY h.id) r"
            " WHERE r.id = v.household_id"
        )
    )


def expected(conn: Connection, campaign_id: int, now: datetime) -> list[dict[str, Any]]:
    """The progress per grid computed in pandas from the raw rows of the campaign's grids."""
    start, deadline = conn.execute(
        text("SELECT starts_at, deadline FROM campaigns WHERE id = :c"), {"c": campaign_id}
    ).one()
    grids = pd.DataFrame(
        conn.execute(
            text(
                "SELECT g.id AS grid_id, g.code AS grid FROM campaign_grids cg"
                " JOIN grids g ON g.id = cg.grid_id WHERE cg.campaign_id = :c"
            ),
            {"c": campaign_id},
        ).all(),
        columns=["grid_id", "grid"],
    )
    ids = grids["grid_id"].tolist()
    homes = pd.DataFrame(
        conn.execute(
            text("SELECT id, grid_id FROM households WHERE grid_id = ANY(:g)"), {"g": ids}
        ).all(),
        columns=["household_id", "grid_id"],
    )
    people = pd.DataFrame(
        conn.execute(text("SELECT household_id FROM residents")).all(), columns=["household_id"]
    )
    visits = pd.DataFrame(
        conn.execute(
            text("SELECT household_id, visited_at, result, people_seen FROM visits")
        ).all(),
        columns=["household_id", "visited_at", "result", "people_seen"],
    )
    registered = people.groupby("household_id").size().rename("registered")
    homes = homes.join(registered, on="household_id").fillna({"registered": 0})
    in_time = visits[
        (visits["visited_at"] >= start)
        & (visits["visited_at"] <= now)
        & visits["result"].isin(["seen_all", "partial"])
    ]
    most = in_time.groupby("household_id")["people_seen"].max().fillna(0).rename("most")
    homes = homes.join(most, on="household_id")
    homes["seen"] = homes["household_id"].isin(in_time["household_id"])
    homes["counted"] = homes[["most", "registered"]].min(axis=1).where(homes["seen"], 0)
    share = min(1.0, max(0.0, (now - start) / (deadline - start)))
    out = []
    for grid_id, code in sorted(
        zip(grids["grid_id"], grids["grid"], strict=True), key=lambda x: x[1]
    ):
        mine = homes[homes["grid_id"] == grid_id]
        households, seen = len(mine), int(mine["seen"].sum())
        out.append(
            {
                "grid": code,
                "households": households,
                "seen": seen,
                "people_registered": int(mine["registered"].sum()),
                "people_counted": int(mine["counted"].sum()),
                "behind_pace": households > 0 and seen / households < share,
            }
        )
    return out


def shown(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in g.items() if k != "village"} for g in report["grids"]]


def test_progress_matches_an_independent_computation(sample_conn: Connection) -> None:
    give_people_seen(sample_conn)
    end = last_visit(sample_conn)
    start = end - timedelta(days=4)
    made = records.add(
        sample_conn,
        NewCampaign(
            "sweep", start, start + timedelta(days=8), villages=tuple(villages(sample_conn, 4))
        ),
        actor="t",
    )
    for now in (start + timedelta(days=2, hours=5), end, start - timedelta(hours=1)):
        report = records.progress(sample_conn, made["id"], now)
        assert shown(report) == expected(sample_conn, made["id"], now)
    mid = shown(records.progress(sample_conn, made["id"], start + timedelta(days=2, hours=5)))
    # Not a trivial answer: households seen, people counted and capped, some grids behind.
    assert sum(g["seen"] for g in mid) > 0
    assert 0 < sum(g["people_counted"] for g in mid) < sum(g["people_registered"] for g in mid)
    assert any(g["behind_pace"] for g in mid)
    before = shown(records.progress(sample_conn, made["id"], start - timedelta(hours=1)))
    assert all(g["seen"] == 0 and g["behind_pace"] is False for g in before)


def _grid(conn: Connection, code: str) -> tuple[int, list[int]]:
    gid = conn.execute(text("SELECT id FROM grids WHERE code = :c"), {"c": code}).scalar_one()
    homes = conn.execute(
        text("SELECT id FROM households WHERE grid_id = :g ORDER BY id"), {"g": gid}
    ).scalars()
    return int(gid), [int(h) for h in homes]


def _visit(conn: Connection, household: int, at: datetime, result: str, seen: int | None) -> None:
    conn.execute(
        text(
            "INSERT INTO visits (source_id, household_id, grid_id, visited_at, result,"
            " people_seen) SELECT 'campaign-test:' || gen_random_uuid(), id, grid_id, :at,"
            " :r, :n FROM households WHERE id = :h"
        ),
        {"h": household, "at": at, "r": result, "n": seen},
    )


def test_behind_pace_at_a_known_moment(sample_conn: Connection) -> None:
    a, b = (
        str(c)
        for c in sample_conn.execute(
            text(
                "SELECT g.code FROM grids g WHERE EXISTS (SELECT 1 FROM households h"
                " WHERE h.grid_id = g.id) ORDER BY g.code LIMIT 2"
            )
        ).scalars()
    )
    start = datetime(2031, 3, 1, 8, 0, tzinfo=TOWN_TIMEZONE)  # no sample visit this late
    deadline = start + timedelta(days=10)
    made = records.add(sample_conn, NewCampaign("pace", start, deadline, grids=(a, b)), actor="t")
    _, homes_a = _grid(sample_conn, a)
    _, homes_b = _grid(sample_conn, b)
    half_a, half_b = len(homes_a) // 2, (len(homes_b) + 1) // 2
    for h in homes_a[: half_a - 1]:  # one short of half: behind at half time
        _visit(sample_conn, h, start + timedelta(days=1), "seen_all", 2)
    for h in homes_b[:half_b]:  # half or more: on pace at half time
        _visit(sample_conn, h, start + timedelta(days=1), "partial", 1)
    _visit(sample_conn, homes_a[-1], start + timedelta(days=1), "nobody_home", 3)  # not seen
    _visit(sample_conn, homes_b[-1], start - timedelta(seconds=1), "seen_all", 3)  # too early
    half = start + timedelta(days=5)
    report = records.progress(sample_conn, made["id"], half)
    assert report["campaign"]["time_passed"] == 0.5
    by_grid = {g["grid"]: g for g in report["grids"]}
    assert (by_grid[a]["seen"], by_grid[a]["behind_pace"]) == (half_a - 1, True)
    assert (by_grid[b]["seen"], by_grid[b]["behind_pace"]) == (half_b, False)
    # A visit exactly at the start counts; at the deadline, anything short of all is behind.
    _visit(sample_conn, homes_a[half_a - 1], start, "seen_all", None)
    late = records.progress(sample_conn, made["id"], deadline + timedelta(days=3))
    assert late["campaign"]["time_passed"] == 1.0
    assert {g["grid"]: (g["seen"], g["behind_pace"]) for g in late["grids"]} == {
        a: (half_a, True),
        b: (half_b, half_b < len(homes_b)),
    }
    # The visit at the start had no people_seen: it is seen but counts nobody.
    assert by_grid[a]["people_counted"] == late["grids"][0]["people_counted"]


def test_people_counted_takes_the_largest_visit_capped(sample_conn: Connection) -> None:
    code = str(
        sample_conn.execute(
            text(
                "SELECT g.code FROM grids g JOIN households h ON h.grid_id = g.id"
                " JOIN residents r ON r.household_id = h.id GROUP BY g.code ORDER BY g.code"
                " LIMIT 1"
            )
        ).scalar_one()
    )
    home, registered = sample_conn.execute(
        text(
            "SELECT h.id, count(r.id) FROM households h JOIN grids g ON g.id = h.grid_id"
            " JOIN residents r ON r.household_id = h.id WHERE g.code = :c"
            " GROUP BY h.id HAVING count(r.id) >= 2 ORDER BY h.id LIMIT 1"
        ),
        {"c": code},
    ).one()
    start = datetime(2031, 3, 1, 8, 0, tzinfo=TOWN_TIMEZONE)
    made = records.add(
        sample_conn, NewCampaign("cap", start, start + timedelta(days=3), grids=(code,)), actor="t"
    )
    _visit(sample_conn, home, start + timedelta(hours=1), "partial", 1)
    _visit(sample_conn, home, start + timedelta(hours=2), "partial", 1)
    at = start + timedelta(hours=3)
    assert records.progress(sample_conn, made["id"], at)["grids"][0]["people_counted"] == 1
    _visit(sample_conn, home, start + timedelta(hours=4), "seen_all", registered + 5)
    later = records.progress(sample_conn, made["id"], start + timedelta(hours=5))["grids"][0]
    assert (later["seen"], later["people_counted"]) == (1, registered)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"deadline": 0}, "campaign 'c': deadline: must be after the start"),
        ({"deadline": -1}, "campaign 'c': deadline: must be after the start"),
        (
            {"villages": ("nope-1", "nope-2")},
            "campaign 'c': villages: unknown village nope-1, nope-2",
        ),
        ({"villages": None, "grids": ("x9",)}, "campaign 'c': grids: unknown grid x9"),
        ({"villages": None}, "campaign 'c': scope: give villages or grids"),
        ({"grids": ("x9",)}, "campaign 'c': scope: villages or grids, not both"),
        ({"villages": (" ",)}, "campaign 'c': villages: empty scope"),
        ({"name": "  "}, "campaign: name: required"),
    ],
)
def test_refusals_name_the_campaign_and_the_field(
    sample_conn: Connection, change: dict[str, Any], needle: str
) -> None:
    start = datetime(2031, 3, 1, 8, 0)
    fields: dict[str, Any] = {"name": "c", "start": start, "deadline": start + timedelta(days=2),
                              "villages": tuple(villages(sample_conn, 1))}  # fmt: skip
    if "deadline" in change:
        change = {"deadline": start + timedelta(hours=change["deadline"])}
    before = sample_conn.execute(text("SELECT count(*) FROM campaigns")).scalar_one()
    with pytest.raises(RecordRefused) as refused:
        records.add(sample_conn, NewCampaign(**(fields | change)), actor="t")
    assert needle in str(refused.value)
    assert sample_conn.execute(text("SELECT count(*) FROM campaigns")).scalar_one() == before


def test_a_time_without_zone_is_the_towns(sample_conn: Connection) -> None:
    made = records.add(
        sample_conn,
        NewCampaign(
            "tz",
            datetime(2031, 3, 1, 8),
            datetime(2031, 3, 2, 8),
            villages=tuple(villages(sample_conn, 1)),
        ),
        actor="t",
    )
    assert made["start"] == "2031-03-01T08:00:00+08:00"
    assert made["grids"]
    assert made["created_by"] == "t"
    assert [c["id"] for c in records.list_campaigns(sample_conn)][-1] == made["id"]
    with pytest.raises(ValueError, match="not a date alone"):
        records.read_moment("2031-03-01")
