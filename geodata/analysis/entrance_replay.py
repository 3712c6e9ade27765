"""Entrance states replayed from their events: what state each entrance was in at a moment.

Pure pandas, apart from the coverage package (which loads scipy): `wangge check` and the
command post replay entrances without loading the coverage report.
"""

from __future__ import annotations

import pandas as pd


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
