"""Checkpoint staffing: the hours of the next 24 with a shift of at least the required staff."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

WINDOW_HOURS = 24


def window_start_s(as_of_s: float) -> float:
    """The staffing window starts at the whole hour at or before the moment."""
    return float(np.floor(as_of_s / 3600.0) * 3600.0)


def staffed_hours(
    checkpoint_ids: Ints,
    required: Ints,
    shifts: pd.DataFrame,
    start_s: float,
    *,
    hours: int = WINDOW_HOURS,
) -> Ints:
    """Per checkpoint, the hours of [start, start + hours) wholly covered by shifts of enough staff.

    `shifts`: checkpoint_id, starts_s, ends_s, staff_count. Shifts of one checkpoint add up
    in time (08-16 then 16-24 covers 08-24) but not in staff (two of 1 are not one of 2).
    Time is counted in whole minutes.
    """
    n = len(checkpoint_ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    position = pd.Index(checkpoint_ids).get_indexer(pd.Index(shifts["checkpoint_id"]))
    req = np.asarray(required)[np.maximum(position, 0)]
    ok = (position >= 0) & (np.asarray(shifts["staff_count"]) >= req)
    minutes = hours * 60
    first = np.ceil((np.asarray(shifts["starts_s"], float)[ok] - start_s) / 60.0)
    last = np.floor((np.asarray(shifts["ends_s"], float)[ok] - start_s) / 60.0)
    first = np.clip(first, 0, minutes).astype(np.int64)
    last = np.clip(last, 0, minutes).astype(np.int64)
    rows = position[ok]
    keep = last > first
    diff = np.zeros((n, minutes + 1), dtype=np.int32)
    np.add.at(diff, (rows[keep], first[keep]), 1)
    np.add.at(diff, (rows[keep], last[keep]), -1)
    covered = np.cumsum(diff[:, :minutes], axis=1) > 0
    return np.asarray(covered.reshape(n, hours, 60).all(axis=2).sum(axis=1), dtype=np.int64)


def staffed_at(checkpoint_ids: Ints, required: Ints, shifts: pd.DataFrame, at_s: float) -> Bools:
    """Checkpoints with a shift of enough staff on duty at the moment."""
    position = pd.Index(checkpoint_ids).get_indexer(pd.Index(shifts["checkpoint_id"]))
    req = np.asarray(required)[np.maximum(position, 0)]
    on = (
        (position >= 0)
        & (np.asarray(shifts["staff_count"]) >= req)
        & (np.asarray(shifts["starts_s"], float) <= at_s)
        & (np.asarray(shifts["ends_s"], float) > at_s)
    )
    staffed = np.zeros(len(checkpoint_ids), dtype=bool)
    staffed[position[on]] = True
    return staffed
