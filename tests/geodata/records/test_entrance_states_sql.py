"""The coverage inputs' entrance states, replayed in the database, are those that the pandas
replay of every event gives (geodata.analysis.entrance_replay): at moments before, between
and after events, planned ones included, for entrances with and without events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, text

from geodata.analysis.entrance_replay import entrance_states_as_of
from geodata.records.coverage_inputs import fetch_inputs
from tests import conftest


def _replayed(conn: Connection, moment: datetime) -> list[object]:
    entrances = pd.DataFrame(
        conn.execute(
            text(
                "SELECT id, state::text AS state, extract(epoch FROM since)::float8 AS since_s"
                " FROM entrances ORDER BY id"
            )
        ).all(),
        columns=["id", "state", "since_s"],
    )
    events = pd.DataFrame(
        conn.execute(
            text(
                "SELECT entrance_id, extract(epoch FROM at)::float8 AS at_s,"
                " from_state::text, to_state::text FROM entrance_events"
                " ORDER BY entrance_id, at, id"
            )
        ).all(),
        columns=["entrance_id", "at_s", "from_state", "to_state"],
    )
    return list(entrance_states_as_of(entrances, events, moment.timestamp()))


def test_database_replay_equals_the_pandas_replay(own_sample_db: conftest.TestDatabase) -> None:
    with own_sample_db.owner.begin() as conn:
        base = conn.execute(text("SELECT max(at) FROM entrance_events")).scalar_one()
        base = (base or datetime.now(UTC)) + timedelta(minutes=1)
        first, second, third = (
            int(i) for (i,) in conn.execute(text("SELECT id FROM entrances ORDER BY id LIMIT 3"))
        )
        events = [
            (first, base + timedelta(days=1), "open", "sealed"),
            (first, base + timedelta(days=2), "sealed", "open"),
            (first, base + timedelta(days=3), "open", "sealed"),
            (second, base + timedelta(days=2), "open", "checkpoint"),
            (second, base + timedelta(days=2), "checkpoint", "sealed"),  # same moment: by id
        ]
        for entrance, at, before, after in events:
            conn.execute(
                text(
                    "INSERT INTO entrance_events (entrance_id, at, from_state, to_state)"
                    " VALUES (:e, :at, :f, :t)"
                ),
                {"e": entrance, "at": at, "f": before, "t": after},
            )
        made = conn.execute(  # an entrance with no event, made after the moments before it
            text(
                "INSERT INTO entrances"
                " (source_id, name, compound_id, village_id, state, since, geom)"
                " SELECT 'replay-test', 'replay', compound_id, village_id, 'open', :since, geom"
                " FROM entrances"
                " WHERE id = :e RETURNING id"
            ),
            {"since": base + timedelta(days=1), "e": third},
        ).scalar_one()
    moments = [base - timedelta(days=400), base] + [
        base + timedelta(days=d, hours=h) for d in range(4) for h in (0, 12)
    ]
    with own_sample_db.owner.connect() as conn:
        ids = [int(i) for (i,) in conn.execute(text("SELECT id FROM entrances ORDER BY id"))]
        for moment in moments:
            inputs = fetch_inputs(conn, as_of=moment, grid_ids=frozenset())
            assert list(inputs.entrances["state"]) == _replayed(conn, moment), moment
        at = {
            d: dict(zip(ids, _replayed(conn, base + timedelta(days=d, hours=12)), strict=True))
            for d in range(4)
        }
    assert [at[d][first] for d in range(1, 4)] == ["sealed", "open", "sealed"]
    assert [at[d][second] for d in range(2, 4)] == ["sealed", "sealed"]  # same moment: by id
    assert [at[d][made] for d in range(4)] == [None, "open", "open", "open"]
