"""Inspections and rectification items in a rolled-back transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from shapely import Point
from sqlalchemy import Connection, insert, text

from geodata import models as m
from geodata import vocab as v
from geodata.records import supervision as records
from geodata.records.refusal import RecordRefused
from geodata.town_time import TOWN_TIMEZONE
from tests import factories as f

T = datetime(2026, 2, 1, 9, 0, tzinfo=TOWN_TIMEZONE)


def staff(conn: Connection, name: str, village_id: int) -> int:
    return int(
        conn.execute(
            insert(m.Staff)
            .values(
                source_id=f"test:staff/{name}",
                name=name,
                village_id=village_id,
                role=v.StaffRole.CHECKPOINT_STAFF,
            )
            .returning(m.Staff.id)
        ).scalar_one()
    )


def checkpoint(conn: Connection, name: str, village_id: int, point: Point) -> int:
    return int(
        conn.execute(
            insert(m.Checkpoint)
            .values(
                source_id=f"test:checkpoint/{name}",
                name=name,
                village_id=village_id,
                kind=v.CheckpointKind.ROAD,
                state=v.CheckpointState.ACTIVE,
                staff_per_shift=2,
                radius_m=50.0,
                geom=f.ewkt(point),
            )
            .returning(m.Checkpoint.id)
        ).scalar_one()
    )


def town(conn: Connection) -> dict[str, int]:
    v1 = f.village(conn, "9900000401", f.square(0, 0, 1, 1))
    v2 = f.village(conn, "9900000402", f.square(2, 0, 3, 1))
    g1 = f.grid(conn, v1, "990000040101", f.square(0, 0, 1, 1))
    f.grid(conn, v2, "990000040201", f.square(2, 0, 3, 1))
    c = f.square(0.5, 0.5, 0.5, 0.5).centroid
    return {
        "v1": v1,
        "v2": v2,
        "g1": g1,
        "cp1": checkpoint(conn, "cp1", v1, c),
        "cp2": checkpoint(conn, "cp2", v2, f.square(2.5, 0.5, 2.5, 0.5).centroid),
        "a": staff(conn, "a", v1),
        "b": staff(conn, "b", v1),
    }


CHECKS = dict.fromkeys(records.CHECKLIST, True)


def test_an_item_goes_open_fixed_verified_and_the_fixer_cannot_verify(conn: Connection) -> None:
    t = town(conn)
    item = records.add_rectification(
        conn, checkpoint_id=t["cp1"], inspection_id=None, description="no register",
        owner_id=t["a"], deadline=T + timedelta(hours=4),
    )  # fmt: skip
    got = records.rectification(conn, item)
    assert got is not None
    assert (got["status"], got["version"], got["owner"]) == ("open", 1, "test:staff/a")
    with pytest.raises(RecordRefused, match="status: is open, must be fixed"):
        records.verify(conn, item, by=t["b"], at=T, version=1)
    assert records.fix(conn, item, by=t["a"], at=T, version=1)
    assert not records.fix(conn, item, by=t["a"], at=T, version=1)  # stale: nothing changed
    with pytest.raises(RecordRefused, match="the person who fixed an item cannot verify it"):
        records.verify(conn, item, by=t["a"], at=T, version=2)
    after = records.rectification(conn, item)
    assert after is not None
    assert (after["status"], after["version"]) == ("fixed", 2)
    assert records.verify(conn, item, by=t["b"], at=T, version=2)
    done = records.rectification(conn, item)
    assert done is not None
    assert (done["status"], done["fixed_by"], done["verified_by"]) == (
        "verified", "test:staff/a", "test:staff/b",
    )  # fmt: skip
    # The database itself refuses a verifier who fixed it.
    with pytest.raises(Exception, match="verifier_not_fixer"), conn.begin_nested():
        conn.execute(
            text("UPDATE rectifications SET verified_by_id = fixed_by_id WHERE id = :i"),
            {"i": item},
        )


def test_overdue_and_not_inspected(conn: Connection) -> None:
    t = town(conn)
    day = (T.replace(hour=0), T.replace(hour=0) + timedelta(days=1))
    late = records.add_rectification(
        conn, checkpoint_id=t["cp1"], inspection_id=None, description="late",
        owner_id=t["a"], deadline=T - timedelta(hours=1),
    )  # fmt: skip
    fixed_late = records.add_rectification(
        conn, checkpoint_id=t["cp2"], inspection_id=None, description="fixed, not verified",
        owner_id=t["a"], deadline=T - timedelta(hours=2),
    )  # fmt: skip
    records.fix(conn, fixed_late, by=t["a"], at=T - timedelta(hours=3), version=1)
    done = records.add_rectification(
        conn, checkpoint_id=t["cp1"], inspection_id=None, description="verified",
        owner_id=t["a"], deadline=T - timedelta(hours=1),
    )  # fmt: skip
    records.fix(conn, done, by=t["a"], at=T, version=1)
    records.verify(conn, done, by=t["b"], at=T, version=2)
    records.add_rectification(
        conn, checkpoint_id=t["cp1"], inspection_id=None, description="not yet due",
        owner_id=t["a"], deadline=T + timedelta(hours=1),
    )  # fmt: skip
    overdue = records.rectifications(conn, None, overdue_at=T)
    assert [i["id"] for i in overdue] == [fixed_late, late]
    assert [i["id"] for i in records.rectifications(conn, [t["v1"]], overdue_at=T)] == [late]
    assert records.overdue_checkpoints(conn, T) == ["test:checkpoint/cp1", "test:checkpoint/cp2"]

    assert records.not_inspected(conn, None, *day) == ["test:checkpoint/cp1", "test:checkpoint/cp2"]
    iid = records.add_inspection(
        conn, checkpoint_id=t["cp1"], inspector_id=t["b"], at=T, checklist=CHECKS, notes=None
    )
    assert records.not_inspected(conn, None, *day) == ["test:checkpoint/cp2"]
    (seen,) = records.inspections(conn, [t["v1"]], *day)
    assert (seen["id"], seen["inspector"], seen["masks"]) == (iid, "test:staff/b", True)
    assert records.inspections(conn, [t["v2"]], *day) == []
    with pytest.raises(RecordRefused, match="no such inspection of this checkpoint"):
        records.add_rectification(
            conn, checkpoint_id=t["cp2"], inspection_id=iid, description="x",
            owner_id=t["a"], deadline=T,
        )  # fmt: skip
    with pytest.raises(RecordRefused, match="owner 'nobody': no such staff"):
        records.staff_ref(conn, "nobody", field="owner")
