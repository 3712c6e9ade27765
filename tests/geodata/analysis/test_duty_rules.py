"""The duty rules against brute force: minute by minute head counts and sliding windows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geodata.analysis import duty_rules as rules

H = 3600.0
T0 = 1_780_000_000.0 - (1_780_000_000.0 % H)


def _shifts(rows: list[tuple[int, float, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["checkpoint_id", "starts_s", "ends_s", "staff_count"])


def _brute_min_per_hour(shifts: pd.DataFrame, cid: int, start: float, hours: int) -> list[int]:
    """The fewest people in each hour, counted every second at the boundaries and every
    minute in between."""
    mine = shifts[shifts["checkpoint_id"] == cid]
    out = []
    for h in range(hours):
        lo = start + h * H
        times = {lo + m * 60.0 for m in range(60)}
        times |= {t for t in list(mine["starts_s"]) + list(mine["ends_s"]) if lo <= t < lo + H}
        counts = [
            int(mine.loc[(mine["starts_s"] <= t) & (mine["ends_s"] > t), "staff_count"].sum())
            for t in times
        ]
        out.append(min(counts))
    return out


def test_head_counts_match_a_minute_by_minute_count() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for cid in (5, 9, 12):
        for _ in range(8):
            s = T0 + float(rng.integers(-10, 30)) * 1800.0 + float(rng.integers(0, 60)) * 60
            rows.append((cid, s, s + float(rng.integers(1, 10)) * 1800.0, int(rng.integers(1, 4))))
    rows.append((77, T0, T0 + 5 * H, 3))  # a checkpoint not asked about
    shifts = _shifts(rows)
    ids = np.array([12, 5, 9], dtype=np.int64)
    got = rules.head_counts(shifts, ids, T0, 24)
    for r, cid in enumerate(ids.tolist()):
        assert got[r].tolist() == _brute_min_per_hour(shifts, cid, T0, 24), cid


def test_understaffed_names_each_short_hour_of_active_checkpoints() -> None:
    checkpoints = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "source_id": ["cp-a", "cp-b", "cp-c"],
            "staff_per_shift": [2, 1, 1],
            "entrance_id": [None, None, None],
            "state": ["active", "active", "closed"],
        }
    )
    # cp-a: two people 00-08 and 08-16, one person 16-24; cp-b: all day; cp-c closed.
    shifts = _shifts(
        [
            (1, T0, T0 + 8 * H, 2),
            (1, T0 + 8 * H, T0 + 16 * H, 2),
            (1, T0 + 16 * H, T0 + 24 * H, 1),
            (2, T0 - 2 * H, T0 + 30 * H, 1),
        ]
    )
    items = rules.checkpoints_understaffed(checkpoints, shifts, T0 + 600)
    assert [(i["checkpoint"], (i["hour"] - T0) / H, i["staff"]) for i in items] == [
        ("cp-a", float(h), 1) for h in range(16, 24)
    ]
    # A gap of ten minutes makes its hour short too.
    gap = _shifts([(2, T0 - H, T0 + 3 * H, 1), (2, T0 + 3 * H + 600, T0 + 25 * H, 1)])
    items = rules.checkpoints_understaffed(checkpoints.iloc[[1]], gap, T0)
    assert [((i["hour"] - T0) / H, i["staff"]) for i in items] == [(3.0, 0)]


def test_shift_overlaps_pairs_every_overlapping_shift_of_a_person() -> None:
    rows: list[tuple[str, int, float, float]] = [
        ("p1", 1, T0, T0 + 8 * H),
        ("p1", 2, T0 + 7 * H, T0 + 9 * H),
        ("p1", 3, T0 + 7.5 * H, T0 + 10 * H),
        ("p1", 4, T0 + 10 * H, T0 + 12 * H),  # touches, does not overlap
        ("p2", 5, T0, T0 + 8 * H),
        ("p3", 6, T0 + H, T0 + 2 * H),
    ]
    a = pd.DataFrame(rows, columns=["staff", "shift_id", "starts_s", "ends_s"])
    brute = {
        (x[1], y[1])
        for x in rows
        for y in rows
        if x[0] == y[0] and x[1] < y[1] and x[2] < y[3] and y[2] < x[3]
    }
    items = rules.shift_overlaps(a)
    assert {(i["shift"], i["other_shift"]) for i in items} == brute == {(1, 2), (1, 3), (2, 3)}
    assert all(i["staff"] == "p1" for i in items)


def test_hours_over_limit_matches_a_sliding_window() -> None:
    rng = np.random.default_rng(11)
    rows: list[tuple[str, int, float, float]] = []
    for p in range(12):
        t = T0
        for k in range(4):
            t += float(rng.integers(0, 10)) * H
            length = float(rng.integers(2, 9)) * H
            rows.append((f"p{p:02d}", k, t, t + length))
            t += length
    a = pd.DataFrame(rows, columns=["staff", "shift_id", "starts_s", "ends_s"])
    limit = 12.0
    over: dict[str, float] = {}
    for staff in sorted({r[0] for r in rows}):
        mine = [(r[2], r[3]) for r in rows if r[0] == staff]
        best = 0.0
        for w in np.arange(T0 - 24 * H, T0 + 80 * H, 900.0).tolist():
            worked = sum(max(0.0, min(e, w + 24 * H) - max(s, w)) for s, e in mine)
            best = max(best, worked / H)
        if best > limit:
            over[staff] = best
    items = rules.hours_over_limit(a, limit)
    assert {i["staff"]: i["hours"] for i in items} == over
    assert over  # the draw has someone over


def test_grids_villages_and_teams() -> None:
    grids = pd.DataFrame(
        {"code": ["g2", "g1", "g3"], "leader_id": [None, 4, 5],
         "leader_retired_s": [None, None, T0 - 1]}
    )  # fmt: skip
    assert [i["grid"] for i in rules.grids_without_leader(grids, T0)] == ["g2", "g3"]
    assert [i["grid"] for i in rules.grids_without_leader(grids, T0 - 2)] == ["g2"]

    villages = pd.DataFrame({"id": [1, 2, 3, 4], "code": ["v1", "v2", "v3", "v4"]})
    entrances = pd.DataFrame(
        {"id": [10, 11, 20, 30, 31], "source_id": ["e10", "e11", "e20", "e30", "e31"],
         "village_id": [1, 1, 2, 3, 3], "state": ["open", "checkpoint", "checkpoint", "open",
                                                  "sealed"]}
    )  # fmt: skip
    checkpoints = pd.DataFrame(
        {"entrance_id": [20, 30, None], "state": ["active", "closed", "active"]}
    )
    items = rules.villages_open_entrances(villages, entrances, checkpoints, T0)
    assert [(i["village"], i["open_entrances"], i.get("problem")) for i in items] == [
        ("v1", 2, None),
        ("v3", 1, "no active checkpoint"),
        ("v4", 0, None),
    ]

    teams = pd.DataFrame(
        {"id": [1, 2, 3, 4], "source_id": ["unit", "visit", "gate", "alone"],
         "kind": ["combat_unit", "household_visit", "checkpoint", "patrol"],
         "parent_id": [None, 1, 1, None]}
    )  # fmt: skip
    members = pd.DataFrame({"team_id": [2, 2]})
    assert [i["team"] for i in rules.teams_without_members(teams, members, T0)] == [
        "alone",
        "gate",
    ]
