"""Closure of compounds: entrance states replayed as of a moment, open entrances, guards."""

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


def entrance_states_as_of(
    entrances: pd.DataFrame, events: pd.DataFrame, as_of_s: float
) -> pd.Series:
    """Each entrance's state at `as_of_s` from its event history (None: not there yet).

    `entrances`: id, state (current), since_s; `events`: entrance_id, at_s, from_state,
    to_state. The state is that of the latest event at or before the moment; before an
    entrance's first event it is that event's `from_state` (None when the event created it).
    An entrance with no event keeps its current state from `since_s` on.
    """
    ev = events.sort_values(["entrance_id", "at_s"], kind="stable")
    past = ev[ev["at_s"] <= as_of_s].groupby("entrance_id")["to_state"].last()
    future = ev[ev["at_s"] > as_of_s].groupby("entrance_id")["from_state"].first()
    ids = entrances["id"]
    state = ids.map(past)
    before_first = state.isna() & ids.isin(future.index)
    state = state.where(~before_first, ids.map(future))
    no_events = ~ids.isin(ev["entrance_id"])
    exists = entrances["since_s"] <= as_of_s
    state = state.where(~no_events, entrances["state"].where(exists))
    return state.astype(object).where(state.notna(), None).set_axis(entrances.index)


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
