"""The map and the coverage report replay the same past: entrances and checkpoints, state
and presence, feature by feature, at moments after a seal, a closure and a new checkpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Connection, text

from geodata.maps.layers import LAYERS, feature_collection
from geodata.records.coverage_inputs import fetch_inputs


def _map_states(conn: Connection, layer: str, moment: datetime) -> dict[int, str]:
    body = orjson.loads(feature_collection(conn, LAYERS[layer], as_of=moment))
    return {int(f["id"]): str(f["properties"]["state"]) for f in body["features"]}


def test_the_map_and_the_report_replay_the_same_day(sample_conn: Connection) -> None:
    conn = sample_conn
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    sealed = conn.execute(
        text("SELECT id FROM entrances WHERE compound_id IS NOT NULL AND state = 'open' "
             "ORDER BY id LIMIT 1")
    ).scalar_one()  # fmt: skip
    conn.execute(
        text("INSERT INTO entrance_events (entrance_id, at, from_state, to_state, user_name) "
             "VALUES (:e, :at, 'open', 'sealed', 'test')"),
        {"e": sealed, "at": start + timedelta(hours=1)},
    )  # fmt: skip
    conn.execute(text("UPDATE entrances SET state = 'sealed' WHERE id = :e"), {"e": sealed})
    closed = conn.execute(
        text("SELECT id FROM checkpoints WHERE state = 'active' ORDER BY id LIMIT 1")
    ).scalar_one()
    conn.execute(
        text("INSERT INTO checkpoint_events (checkpoint_id, at, from_state, to_state) "
             "VALUES (:c, :at, 'active', 'closed')"),
        {"c": closed, "at": start + timedelta(hours=2)},
    )  # fmt: skip
    made = conn.execute(
        text("INSERT INTO checkpoints (source_id, name, kind, state, staff_per_shift, radius_m, "
             "village_id, geom, created_at) SELECT 'test:replay', 'New', kind, 'active', "
             "staff_per_shift, radius_m, village_id, geom, :at FROM checkpoints "
             "ORDER BY id LIMIT 1 RETURNING id"),
        {"at": start + timedelta(hours=3)},
    ).scalar_one()  # fmt: skip
    seen = []
    for hours in (0.5, 1.5, 2.5, 3.5):
        moment = start + timedelta(hours=hours)
        inputs = fetch_inputs(conn, as_of=moment)
        entrances = inputs.entrances[inputs.entrances["state"].notna()]
        report_entrances = dict(
            zip(entrances["id"].astype(int), entrances["state"].astype(str), strict=True)
        )
        report_checkpoints = dict(
            zip(inputs.checkpoints["id"].astype(int), inputs.checkpoints["active"], strict=True)
        )
        map_entrances = _map_states(conn, "entrances", moment)
        map_checkpoints = _map_states(conn, "checkpoints", moment)
        assert map_entrances == report_entrances
        assert {k: v == "active" for k, v in map_checkpoints.items()} == report_checkpoints
        seen.append((map_entrances[sealed], map_checkpoints[closed], made in map_checkpoints))
    assert seen == [
        ("open", "active", False),
        ("sealed", "active", False),
        ("sealed", "closed", False),
        ("sealed", "closed", True),
    ]
