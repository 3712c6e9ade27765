"""`wangge check`'s duty rules on a hand-made town, in a rolled-back transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shapely import Point
from sqlalchemy import Connection, insert, text, update

from geodata import models as m
from geodata import vocab as v
from geodata.records.duty_checks import DUTY_CHECKS
from geodata.records.topology import check_all
from geodata.records.town_settings import set_setting
from geodata.town_time import TOWN_TIMEZONE
from tests import factories as f

T = datetime(2026, 2, 1, 0, 0, tzinfo=TOWN_TIMEZONE)
H = timedelta(hours=1)


def _staff(conn: Connection, name: str, village_id: int, team_id: int | None = None) -> int:
    return int(
        conn.execute(
            insert(m.Staff)
            .values(
                source_id=f"test:staff/{name}",
                name=name,
                role=v.StaffRole.CHECKPOINT_STAFF,
                village_id=village_id,
                team_id=team_id,
            )
            .returning(m.Staff.id)
        ).scalar_one()
    )


def _team(
    conn: Connection, name: str, kind: v.TeamKind, village_id: int, parent_id: int | None = None
) -> int:
    return int(
        conn.execute(
            insert(m.Team)
            .values(
                source_id=f"test:team/{name}",
                name=name,
                kind=kind,
                village_id=village_id,
                parent_id=parent_id,
            )
            .returning(m.Team.id)
        ).scalar_one()
    )


def _shift(conn: Connection, checkpoint_id: int, start: datetime, hours: int, *people: int) -> int:
    sid = int(
        conn.execute(
            insert(m.CheckpointShift)
            .values(
                checkpoint_id=checkpoint_id,
                starts_at=start,
                ends_at=start + hours * H,
                staff_count=0,
            )
            .returning(m.CheckpointShift.id)
        ).scalar_one()
    )
    for p in people:
        conn.execute(
            insert(m.ShiftStaff).values(
                shift_id=sid, staff_id=p, starts_at=start, ends_at=start + hours * H
            )
        )
    return sid


def _town(conn: Connection) -> dict[str, Any]:
    geom = f.square(0, 0, 1, 1)
    v1 = f.village(conn, "9900000301", geom)
    v2 = f.village(conn, "9900000302", f.square(2, 0, 3, 1))
    unit = _team(conn, "unit", v.TeamKind.COMBAT_UNIT, v1)
    gate_group = _team(conn, "gate", v.TeamKind.CHECKPOINT, v1, unit)
    _team(conn, "patrol", v.TeamKind.PATROL, v1)
    lead = _staff(conn, "lead", v1)
    s1 = _staff(conn, "s1", v1, gate_group)
    s2 = _staff(conn, "s2", v1, gate_group)
    g1 = f.grid(conn, v1, "990000030101", f.square(0, 0, 0.5, 1))
    f.grid(conn, v1, "990000030102", f.square(0.5, 0, 1, 1))
    f.grid(conn, v2, "990000030201", f.square(2, 0, 3, 1))
    conn.execute(update(m.Grid).where(m.Grid.id == g1).values(leader_id=lead))
    gate = geom.exterior.interpolate(0.1, normalized=True)
    e1 = int(
        conn.execute(
            insert(m.Entrance)
            .values(
                source_id="test:entrance/v1-gate",
                village_id=v1,
                state=v.EntranceState.CHECKPOINT,
                since=T - 48 * H,
                geom=f.ewkt(gate),
            )
            .returning(m.Entrance.id)
        ).scalar_one()
    )
    cp = int(
        conn.execute(
            insert(m.Checkpoint)
            .values(
                source_id="test:checkpoint/v1-gate",
                name="gate",
                kind=v.CheckpointKind.VILLAGE_GATE,
                state=v.CheckpointState.ACTIVE,
                staff_per_shift=2,
                radius_m=50.0,
                village_id=v1,
                entrance_id=e1,
                geom=f.ewkt(Point(gate.x, gate.y)),
                created_at=T - 48 * H,
            )
            .returning(m.Checkpoint.id)
        ).scalar_one()
    )
    # Two people 00-08, s1 alone 08-16 (16 hours for s1), nobody 16-24.
    _shift(conn, cp, T, 8, s1, s2)
    _shift(conn, cp, T + 8 * H, 8, s1)
    return {"checkpoint": cp, "s1": s1, "lead": lead, "v1": v1}


def test_each_duty_rule_on_a_hand_made_town(conn: Connection) -> None:
    _town(conn)
    report = check_all(conn, at=T + 30 * timedelta(minutes=1))
    checks = report["checks"]
    assert set(DUTY_CHECKS) <= set(checks)
    assert [i["grid"] for i in checks["grid_without_leader"]["items"]] == [
        "990000030102",
        "990000030201",
    ]
    assert checks["grid_without_leader"]["items"][0]["hour"] == "2026-02-01T00:00:00+08:00"
    # v1 keeps one open entrance with its active checkpoint; v2 has none.
    (village,) = checks["village_open_entrances"]["items"]
    assert (village["village"], village["open_entrances"]) == ("9900000302", 0)
    short = checks["checkpoint_understaffed"]["items"]
    assert [(i["hour"][11:16], i["staff"]) for i in short] == [
        (f"{h:02d}:00", 1) for h in range(8, 16)
    ] + [(f"{h:02d}:00", 0) for h in range(16, 24)]
    assert {i["checkpoint"] for i in short} == {"test:checkpoint/v1-gate"}
    assert checks["shift_overlap"]["count"] == 0
    (over,) = checks["hours_over_limit"]["items"]
    assert (over["staff"], over["hours"], over["limit"]) == ("test:staff/s1", 16.0, 12.0)
    assert over["hour"] == "2026-02-01T00:00:00+08:00"
    (team,) = checks["team_without_members"]["items"]
    assert team["team"] == "test:team/patrol"


def test_the_moment_decides(conn: Connection) -> None:
    town = _town(conn)
    # Closed from 06:00: as of 05:00 it is still active and short from 08:00; as of 07:00
    # the village's open entrance has no active checkpoint and nothing is understaffed.
    conn.execute(
        update(m.Checkpoint).where(m.Checkpoint.id == town["checkpoint"])
        .values(state=v.CheckpointState.CLOSED)
    )  # fmt: skip
    conn.execute(
        text(
            "UPDATE checkpoint_events SET at = :at"
            " WHERE checkpoint_id = :c AND from_state IS NOT NULL"
        ),
        {"at": T + 6 * H, "c": town["checkpoint"]},
    )  # fmt: skip
    before = check_all(conn, at=T + 5 * H)["checks"]
    after = check_all(conn, at=T + 7 * H)["checks"]
    assert before["checkpoint_understaffed"]["count"] == 8 + 8 + 5  # to 05:00 next day
    assert before["checkpoint_understaffed"]["items"][0]["hour"] == "2026-02-01T08:00:00+08:00"
    assert after["checkpoint_understaffed"]["count"] == 0
    assert [i.get("problem") for i in after["village_open_entrances"]["items"]] == [
        "no active checkpoint",
        None,
    ]
    # The limit is the town's setting; a day later nobody is over it.
    with conn.begin_nested() as limit:
        set_setting(conn, "hours_limit_per_person", "16", actor="test")
        assert check_all(conn, at=T + 5 * H)["checks"]["hours_over_limit"]["count"] == 0
        limit.rollback()
    assert check_all(conn, at=T + 72 * H)["checks"]["hours_over_limit"]["count"] == 0


def test_overlapping_shifts_loaded_before_the_constraint_are_reported(conn: Connection) -> None:
    town = _town(conn)
    conn.execute(text("ALTER TABLE shift_staff DROP CONSTRAINT shift_staff_no_overlap"))
    _shift(conn, town["checkpoint"], T + 4 * H, 8, town["s1"])
    # 04:00-12:00 overlaps both of s1's shifts (00:00-08:00 and 08:00-16:00).
    items = check_all(conn, at=T)["checks"]["shift_overlap"]["items"]
    assert {i["staff"] for i in items} == {"test:staff/s1"}
    assert [i["hour"][11:16] for i in items] == ["04:00", "08:00"]


def test_entrance_states_are_replayed_as_of_the_moment(conn: Connection) -> None:
    town = _town(conn)
    # The village's gate was sealed at 10:00 and a second entrance opened then.
    gate = conn.execute(
        text("SELECT id FROM entrances WHERE source_id = 'test:entrance/v1-gate'")
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO entrance_events (entrance_id, at, from_state, to_state)"
            " VALUES (:e, :at, 'checkpoint', 'sealed')"
        ),
        {"e": gate, "at": T + 10 * H},
    )
    conn.execute(text("UPDATE entrances SET state = 'sealed' WHERE id = :e"), {"e": gate})
    side = f.square(0, 0, 1, 1).exterior.interpolate(0.6, normalized=True)
    conn.execute(
        insert(m.Entrance).values(
            source_id="test:entrance/v1-side", village_id=town["v1"],
            state=v.EntranceState.OPEN, since=T + 10 * H, geom=f.ewkt(side),
        )
    )  # fmt: skip

    def v1(at: datetime) -> list[dict[str, Any]]:
        items = check_all(conn, at=at)["checks"]["village_open_entrances"]["items"]
        return [i for i in items if i["village"] == "9900000301"]

    assert v1(T + 9 * H) == []
    (after,) = v1(T + 11 * H)
    assert after["entrance"] == "test:entrance/v1-side"
    assert after["problem"] == "no active checkpoint"


def test_a_person_taken_off_early_leaves_the_hours_short(conn: Connection) -> None:
    town = _town(conn)
    # s2 leaves the 00-08 shift at 04:00 (the command post's take-off): one person from then.
    conn.execute(
        text("UPDATE shift_staff SET leaves_at = :at WHERE staff_id <> :s1 AND starts_at = :t"),
        {"at": T + 4 * H, "s1": town["s1"], "t": T},
    )
    short = check_all(conn, at=T + 30 * timedelta(minutes=1))["checks"]["checkpoint_understaffed"]
    assert [(i["hour"][11:16], i["staff"]) for i in short["items"]] == [
        (f"{h:02d}:00", 1) for h in range(4, 16)
    ] + [(f"{h:02d}:00", 0) for h in range(16, 24)]
