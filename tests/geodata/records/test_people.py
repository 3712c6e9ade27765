"""Staff and teams: added, edited and retired by source id; villages hold them together."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geodata.records import people
from geodata.records.refusal import RecordRefused
from geodata.vocab import StaffRole, TeamKind
from tests import factories as f


@pytest.fixture
def two_villages(conn: Connection) -> Connection:
    one = f.village(conn, "V1", f.square(0, 0, 1, 1))
    two = f.village(conn, "V2", f.square(1, 0, 2, 1))
    f.grid(conn, one, "G1", f.square(0, 0, 1, 1))
    f.grid(conn, two, "G2", f.square(1, 0, 2, 1))
    people.add_team(conn, "cu1", name="Unit 1", kind=TeamKind.COMBAT_UNIT, village="V1")
    people.add_team(conn, "cu2", name="Unit 2", kind=TeamKind.COMBAT_UNIT, village="V2")
    return conn


def test_teams_under_the_combat_unit_of_their_village(two_villages: Connection) -> None:
    conn = two_villages
    people.add_team(conn, "cp1", name="Gate", kind=TeamKind.CHECKPOINT, village="V1",
                    parent="cu1")  # fmt: skip
    refusals: list[tuple[str, str, TeamKind, str | None]] = [
        ("has its combat unit 'cu1'", "cu1b", TeamKind.COMBAT_UNIT, None),
        ("'cu2' is in another village", "x1", TeamKind.PATROL, "cu2"),
        ("'cp1' is not a combat unit", "x2", TeamKind.PATROL, "cp1"),
        ("a combat unit has no parent", "x3", TeamKind.COMBAT_UNIT, "cu1"),
        ("'nope': unknown team", "x4", TeamKind.PATROL, "nope"),
        ("source id exists already", "cp1", TeamKind.PATROL, None),
    ]
    for reason, source_id, kind, parent in refusals:
        with pytest.raises(RecordRefused, match=reason):
            people.add_team(conn, source_id, name="T", kind=kind, village="V1", parent=parent)
    listed = {t["source_id"]: t["parent"] for t in people.list_teams(conn, village="V1")}
    assert listed == {"cu1": None, "cp1": "cu1"}


def test_staff_outside_their_village_is_refused(two_villages: Connection) -> None:
    conn = two_villages
    people.add_staff(conn, "p1", name="Li", role=StaffRole.CHECKPOINT_STAFF, village="V1",
                     team="cu1", grid="G1", phone="13900000000")  # fmt: skip
    with pytest.raises(RecordRefused, match=r"staff 'p2': team: 'cu2' is in another village"):
        people.add_staff(conn, "p2", name="Wu", role=StaffRole.PATROL, village="V1", team="cu2")
    with pytest.raises(RecordRefused, match=r"staff 'p1': grid: 'G2' is in another village"):
        people.edit_staff(conn, "p1", grid="G2")
    with pytest.raises(RecordRefused, match=r"staff 'p1': team: in another village than 'V2'"):
        people.edit_staff(conn, "p1", village="V2", grid="G2")
    assert people.edit_staff(conn, "p1", village="V2", team="cu2", grid="G2", name="Li Na") == [
        "grid_id", "name", "team_id", "village_id",
    ]  # fmt: skip
    (row,) = people.list_staff(conn, village="V2")
    assert (row["name"], row["team"], row["grid"], row["phone"]) == (
        "Li Na", "cu2", "G2", "13900000000",
    )  # fmt: skip
    assert people.list_staff(conn, village="V1") == []


def test_retiring_keeps_the_row_and_refuses_a_team_with_members(two_villages: Connection) -> None:
    conn = two_villages
    people.add_staff(conn, "p1", name="Li", role=StaffRole.PATROL, village="V1", team="cu1")
    with pytest.raises(RecordRefused, match=r"team 'cu1': still has 1 member\(s\)"):
        people.retire_team(conn, "cu1")
    people.retire_staff(conn, "p1")
    with pytest.raises(RecordRefused, match="retired already"):
        people.retire_staff(conn, "p1")
    with pytest.raises(RecordRefused, match="retired, cannot be edited"):
        people.edit_staff(conn, "p1", name="X")
    people.retire_team(conn, "cu1")
    assert people.list_staff(conn) == []
    assert [s["source_id"] for s in people.list_staff(conn, retired=True)] == ["p1"]
    assert conn.execute(text("SELECT count(*) FROM staff")).scalar_one() == 1
    # a retired combat unit leaves room for a new one
    people.add_team(conn, "cu1b", name="Unit 1b", kind=TeamKind.COMBAT_UNIT, village="V1")
