"""Checkpoints as they stood at a past moment: each state replayed from `checkpoint_events`.

The replay is the coverage report's (`checkpoint_state_as_of`), so an export as of a day and
the coverage report of that day agree on which checkpoints stood and which were active.
"""

from __future__ import annotations

from dataclasses import replace

from geodata.exports.filters import Filters, end_of
from geodata.exports.layers import LAYERS
from geodata.exports.privacy import RowView
from geodata.exports.sources import row_source
from geodata.exports.sql_source import Column, SqlSource
from geodata.records.as_of import checkpoint_state_as_of


def checkpoints_as_of(filters: Filters) -> SqlSource:
    """The checkpoints layer at the end of `filters.as_of`: those made by then, each in the
    state it was in then."""
    assert filters.as_of is not None
    source = row_source(LAYERS["checkpoints"], RowView.FULL, replace(filters, as_of=None))
    replay = f" JOIN LATERAL ({checkpoint_state_as_of('t', ':replay_moment')}) AS replay ON true"
    return replace(
        source,
        from_sql=source.from_sql + replay,
        columns=tuple(
            Column(c.name, c.kind, "replay.state") if c.name == "state" else c
            for c in source.columns
        ),
        params={**source.params, "replay_moment": end_of(filters.as_of)},
    )
