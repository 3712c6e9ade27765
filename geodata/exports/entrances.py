"""Entrances as they stood at a past moment: each state replayed from `entrance_events`.

The replay is the coverage report's (`geodata.records.as_of.entrance_states`), so an export
as of a day and the coverage report of that day agree on which entrances were open, sealed
or guarded.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from geodata.exports.filters import Filters, end_of
from geodata.exports.layers import LAYERS
from geodata.exports.privacy import RowView
from geodata.exports.sources import row_source
from geodata.exports.sql_source import Column, SqlSource
from geodata.records.as_of import entrance_states

AS_OF_FROM = """
    JOIN unnest(CAST(:replay_ids AS bigint[]), CAST(:replay_states AS text[]))
        AS replay(id, state) ON replay.id = t.id
"""
SINCE_AS_OF = """coalesce((
    SELECT max(ev.at) FROM entrance_events AS ev
    WHERE ev.entrance_id = t.id AND ev.at <= :replay_moment
), t.since)"""
"""The time of the last change up to the moment (the entrance's creation if none)."""


def entrances_as_of(conn: Connection, filters: Filters) -> SqlSource:
    """The entrances layer at the end of `filters.as_of`: those that existed then, in the
    state they were in then, with the time of their last change before it."""
    assert filters.as_of is not None
    source = row_source(LAYERS["entrances"], RowView.FULL, replace(filters, as_of=None))
    ids, states = entrance_states(conn, end_of(filters.as_of))
    moved = {"state": "replay.state", "since": SINCE_AS_OF}
    return replace(
        source,
        from_sql=source.from_sql + AS_OF_FROM,
        columns=tuple(
            Column(c.name, c.kind, moved[c.name]) if c.name in moved else c for c in source.columns
        ),
        params={
            **source.params,
            "replay_ids": ids,
            "replay_states": states,
            "replay_moment": end_of(filters.as_of),
        },
    )
