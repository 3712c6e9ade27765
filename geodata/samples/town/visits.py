"""Door-to-door screening and quarantine visits in the sample town."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from geodata.samples.sorted_groups import position_in_group
from geodata.samples.town.clock import local_times
from geodata.samples.town.plan import serial_ids

VISIT_DAYS = 14
PACE = (0.3, 3.0)
"""The range of a grid's pace: the exponent of its visits' draw of the day (above 1: most of
its round in the last days, below 1: most in the first)."""


def pace_stream(rng: np.random.Generator) -> np.random.Generator:
    """A stream of its own, spawned from the visits' seed without drawing from `rng`."""
    return np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])  # type: ignore[attr-defined]


def plan_visits(
    rng: np.random.Generator,
    households: pd.DataFrame,
    residents: pd.DataFrame,
    staff: pd.DataFrame,
    *,
    today: date,
) -> pd.DataFrame:
    """Door-to-door screening and twice-daily quarantine visits over the last 14 days."""
    n = len(households)
    grid = households["grid"].to_numpy()
    n_grids = int(staff["grid"].max()) + 1
    workers = np.flatnonzero(staff["role"].to_numpy() == "grid_worker")
    workers_of = np.full((n_grids, 2), -1, dtype=np.int64)
    workers_of[staff["grid"].to_numpy()[workers], np.arange(workers.size) % 2] = workers
    household_of = residents["household"].to_numpy()
    fever = np.bincount(household_of[residents["fever"].to_numpy()], minlength=n)

    first, last = np.datetime64(today) - VISIT_DAYS, np.datetime64(today) - 1
    back = residents[residents["returnee"]]
    returned = pd.to_datetime(back["returned_on"]).to_numpy().astype("datetime64[D]")
    until = pd.to_datetime(back["quarantine_until"]).to_numpy().astype("datetime64[D]")
    window = pd.DataFrame(
        {
            "household": back["household"],
            "start": np.maximum(returned, first),
            "end": np.minimum(until, last),
        }
    )
    window = window[window["start"] <= window["end"]]
    window = window.groupby("household").agg(start=("start", "min"), end=("end", "max"))
    q_household = window.index.to_numpy()
    q_days = (window["end"] - window["start"]).dt.days.to_numpy() + 1
    q_rows = np.repeat(q_household, 2 * q_days)
    q_offset = position_in_group(2 * q_days)
    q_day = (
        np.repeat(window["start"].to_numpy().astype("datetime64[D]"), 2 * q_days) + q_offset // 2
    )
    q_minute = np.where(q_offset % 2 == 0, 9 * 60, 16 * 60) + rng.integers(
        -30, 31, size=q_rows.size
    )
    q_kept = rng.random(q_rows.size) >= 0.05

    quarantined = np.zeros(n, dtype=bool)
    quarantined[q_household] = True
    screened = ~quarantined & (rng.random(n) >= 0.03)
    rest = rng.random((n_grids, VISIT_DAYS)) < 0.125
    order = np.argsort(rest, axis=1, kind="stable")  # working days first
    working = (~rest).sum(axis=1)
    twice = rng.random(n) < 1 / 3
    rounds = np.r_[np.flatnonzero(screened), np.flatnonzero(screened & twice)]
    # Each grid keeps its own pace: some did most of their round early in the fortnight,
    # some late (drawn from a stream of its own, so the other draws stay as they were).
    pace = np.exp(pace_stream(rng).uniform(np.log(PACE[0]), np.log(PACE[1]), n_grids))
    draw = rng.random(rounds.size) ** pace[grid[rounds]]
    pick = np.floor(draw * working[grid[rounds]]).astype(np.int64)
    s_day = last - order[grid[rounds], pick]
    s_minute = 8 * 60 + 30 + rng.integers(0, 9 * 60, size=rounds.size)
    result = rng.choice(
        np.array(["seen_all", "partial", "nobody_home"]), size=rounds.size, p=[0.82, 0.11, 0.07]
    )

    visit_household = np.r_[q_rows[q_kept], rounds]
    visit_day = np.r_[q_day[q_kept], s_day]
    visit_minute = np.r_[q_minute[q_kept], s_minute]
    visit_result = np.r_[
        np.where(rng.random(int(q_kept.sum())) < 0.95, "seen_all", "partial"), result
    ]
    frame = pd.DataFrame(
        {
            "household": visit_household,
            "grid": grid[visit_household],
            "visited_at": local_times(visit_day, visit_minute),
            "worker": workers_of[
                grid[visit_household], rng.integers(0, 2, size=visit_household.size)
            ],
            "result": visit_result,
            "fever_count": np.where(visit_result == "nobody_home", 0, fever[visit_household]),
        }
    ).sort_values(["visited_at", "household"], kind="stable", ignore_index=True)
    frame["source_id"] = serial_ids("sample:visit/", len(frame))
    return frame
