"""The checkpoint layer's flags: understaffed, not inspected today, overdue items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Connection

from geodata.maps.layers import LAYERS, feature_collection
from geodata.records import supervision as records
from tests.geodata.records.test_supervision import CHECKS, town


def flags(conn: Connection, at: datetime) -> dict[str, list[str]]:
    body = orjson.loads(feature_collection(conn, LAYERS["checkpoints"], as_of=at))
    return {f["properties"]["name"]: f["properties"]["flags"] for f in body["features"]}


def test_flags_follow_shifts_inspections_and_items(conn: Connection) -> None:
    t = town(conn)
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert flags(conn, now) == {
        "cp1": ["understaffed", "not_inspected_today"],
        "cp2": ["understaffed", "not_inspected_today"],
    }
    records.add_inspection(
        conn, checkpoint_id=t["cp1"], inspector_id=t["b"], at=now, checklist=CHECKS, notes=None
    )
    records.add_rectification(
        conn, checkpoint_id=t["cp2"], inspection_id=None, description="late",
        owner_id=t["a"], deadline=now - timedelta(minutes=1),
    )  # fmt: skip
    conn.exec_driver_sql(
        "INSERT INTO checkpoint_shifts (checkpoint_id, starts_at, ends_at, staff_count)"
        " VALUES (%s, %s, %s, 2)",
        (t["cp1"], now - timedelta(hours=1), now + timedelta(hours=1)),
    )
    assert flags(conn, now + timedelta(seconds=1)) == {
        "cp1": [],
        "cp2": ["understaffed", "not_inspected_today", "overdue_items"],
    }
