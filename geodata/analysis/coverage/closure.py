"""Closure of compounds: open entrances and guards (the states replayed as of a moment are
`geodata.analysis.entrance_replay`'s)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

OPEN_STATES = ("open", "checkpoint")
"""An entrance people pass through; a gate checkpoint is an open entrance with a guard."""
SEALED = "sealed"
GUARD_RADIUS_M = 30.0
"""An open entrance with no active checkpoint this close is unguarded."""


def is_open(states: pd.Series) -> Bools:
    return np.asarray(states.isin(OPEN_STATES))


def open_entrance_counts(compound_ids: Ints, entrance_compound_ids: Floats, open_: Bools) -> Ints:
    """The number of open entrances of each compound."""
    counts = pd.Series(np.asarray(entrance_compound_ids)[open_]).value_counts()
    return np.asarray(pd.Series(compound_ids).map(counts).fillna(0).astype(np.int64))


def guarded(
    entrance_xy: Floats,
    entrance_ids: Ints,
    checkpoints_xy: Floats,
    checkpoint_entrance_ids: Floats,
    *,
    radius_m: float = GUARD_RADIUS_M,
) -> Bools:
    """Entrances with a checkpoint (of those given) within `radius_m`, or linked to one."""
    linked = np.isin(
        entrance_ids, np.asarray(checkpoint_entrance_ids)[~np.isnan(checkpoint_entrance_ids)]
    )
    if len(checkpoints_xy) == 0 or len(entrance_xy) == 0:
        return np.asarray(linked)
    dist, _ = cKDTree(checkpoints_xy).query(
        entrance_xy, k=1, distance_upper_bound=radius_m * 1.000001
    )
    return np.asarray(linked | (dist <= radius_m))


def compound_figures(open_counts: Ints) -> dict[str, Bools]:
    """Exactly one open entrance complies; none is a safety fault; several, a breach."""
    return {
        "compounds_compliant": np.asarray(open_counts == 1),
        "compounds_no_open_entrance": np.asarray(open_counts == 0),
        "compounds_breach": np.asarray(open_counts >= 2),
    }
