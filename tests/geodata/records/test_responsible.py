"""Responsible people on the sample town: who sees a name and a masked phone, who sees only
whether someone is assigned, what lies outside a scope, and what the audit log keeps."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, text

from geodata.auth.access import Principal
from geodata.errors import NotFoundError
from geodata.records import responsible
from geodata.vocab import Role


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    phone: str


@dataclass(frozen=True)
class Village:
    """A sample village with its people, and a grid of another village."""

    id: int
    grid_ids: tuple[int, ...]
    grid_codes: tuple[str, ...]
    secretary: Person
    leaders: dict[int, Person]
    compound: int
    yard_head: Person
    building: int
    building_head: Person
    building_point: tuple[float, float]
    other_grid: int
    other_village: int


def _person(conn: Connection, staff_id: int) -> Person:
    row = conn.execute(
        text("SELECT id, name, phone FROM staff WHERE id = :id"), {"id": staff_id}
    ).one()
    return Person(int(row.id), str(row.name), str(row.phone))


@pytest.fixture
def village(sample_conn: Connection) -> Village:
    conn = sample_conn
    v = conn.execute(
        text(
            "SELECT v.id, v.secretary_id FROM villages AS v"
            " WHERE (SELECT count(*) FROM grids AS g WHERE g.village_id = v.id) >= 2"
            " ORDER BY v.code LIMIT 1"
        )
    ).one()
    grids = conn.execute(
        text("SELECT id, code, leader_id FROM grids WHERE village_id = :v ORDER BY code"),
        {"v": v.id},
    ).all()
    building = conn.execute(
        text(
            "SELECT b.id, b.head_id, b.compound_id, c.head_id AS yard_head,"
            " ST_X(ST_PointOnSurface(b.geom)) AS lon, ST_Y(ST_PointOnSurface(b.geom)) AS lat"
            " FROM buildings AS b JOIN grids AS g ON g.id = b.grid_id"
            " JOIN compounds AS c ON c.id = b.compound_id"
            " WHERE g.village_id = :v AND b.head_id IS NOT NULL AND c.head_id IS NOT NULL"
            " ORDER BY b.id LIMIT 1"
        ),
        {"v": v.id},
    ).one()
    other = conn.execute(
        text("SELECT id, village_id FROM grids WHERE village_id <> :v ORDER BY code LIMIT 1"),
        {"v": v.id},
    ).one()
    return Village(
        id=int(v.id),
        grid_ids=tuple(int(g.id) for g in grids),
        grid_codes=tuple(str(g.code) for g in grids),
        secretary=_person(conn, v.secretary_id),
        leaders={int(g.id): _person(conn, g.leader_id) for g in grids},
        compound=int(building.compound_id),
        yard_head=_person(conn, building.yard_head),
        building=int(building.id),
        building_head=_person(conn, building.head_id),
        building_point=(float(building.lon), float(building.lat)),
        other_grid=int(other.id),
        other_village=int(other.village_id),
    )


def commander(village: Village) -> Principal:
    return Principal(
        name="test-commander", role=Role.COMMANDER, grid_ids=frozenset(village.grid_ids)
    )


def assert_named_and_masked(found: dict[str, Any], person: Person) -> None:
    """The name in full; the phone masked, its middle digits nowhere in the answer."""
    assert found["status"] == "assigned"
    assert found["name"] == person.name
    assert found["phone"] == person.phone[:3] + "*" * (len(person.phone) - 7) + person.phone[-4:]
    assert re.sub(r"\D", "", found["phone"]) == person.phone[:3] + person.phone[-4:]
    assert person.phone not in repr(found)


def _staff_events(conn: Connection, actor: str) -> Sequence[Any]:
    return conn.execute(
        text(
            "SELECT action, object_ids, row_count, detail, audit_events::text AS whole"
            " FROM audit_events WHERE actor = :a AND object_type = 'staff' ORDER BY id"
        ),
        {"a": actor},
    ).all()


def test_a_village_commander_sees_each_level_named_with_the_phone_masked(
    sample_conn: Connection, village: Village
) -> None:
    who = commander(village)
    for grid_id, leader in village.leaders.items():
        found = responsible.responsible_for(sample_conn, who, "grids", grid_id)
        assert found["role"] == "grid_leader"
        assert_named_and_masked(found, leader)
    secretary = responsible.responsible_for(sample_conn, who, "villages", village.id)
    assert secretary["role"] == "village_secretary"
    assert_named_and_masked(secretary, village.secretary)
    yard = responsible.responsible_for(sample_conn, who, "compounds", village.compound)
    assert_named_and_masked(yard, village.yard_head)
    building = responsible.responsible_for(sample_conn, who, "buildings", village.building)
    assert_named_and_masked(building, village.building_head)
    at = responsible.building_at(sample_conn, who, *village.building_point)
    assert at is not None
    assert at["id"] == village.building
    assert_named_and_masked(at["head"], village.building_head)


@pytest.mark.parametrize("role", [Role.PLANNER, Role.ANALYST])
def test_planners_and_analysts_see_only_that_someone_is_assigned(
    sample_conn: Connection, village: Village, role: Role
) -> None:
    who = Principal(name=f"test-{role.value}", role=role)
    people = [
        village.secretary,
        village.yard_head,
        village.building_head,
        *village.leaders.values(),
    ]
    answers = [
        responsible.responsible_for(sample_conn, who, "villages", village.id),
        responsible.responsible_for(sample_conn, who, "compounds", village.compound),
        responsible.responsible_for(sample_conn, who, "buildings", village.building),
        *(responsible.responsible_for(sample_conn, who, "grids", g) for g in village.grid_ids),
    ]
    at = responsible.building_at(sample_conn, who, *village.building_point)
    assert at is not None
    answers.append(at["head"])
    answers.extend(responsible.grid_leaders(sample_conn, who, village.grid_codes).values())
    assert len(answers) == 4 + 2 * len(village.grid_ids)
    for answer in answers:
        assert answer["status"] == "assigned"
        assert not {"name", "phone"} & set(answer)
        for person in people:
            assert person.name not in repr(answer)
            assert person.phone[-4:] not in repr(answer)
    assert answers[0] == {"role": "village_secretary", "status": "assigned"}
    assert _staff_events(sample_conn, who.name) == []


def test_objects_outside_the_scope_are_not_found(sample_conn: Connection, village: Village) -> None:
    who = commander(village)
    with pytest.raises(NotFoundError):
        responsible.responsible_for(sample_conn, who, "grids", village.other_grid)
    with pytest.raises(NotFoundError):
        responsible.responsible_for(sample_conn, who, "villages", village.other_village)
    with pytest.raises(NotFoundError):
        responsible.responsible_for(sample_conn, who, "grids", 2**63 - 1)
    with pytest.raises(NotFoundError):
        responsible.responsible_for(sample_conn, who, "staff", village.grid_ids[0])
    other_codes = sample_conn.execute(
        text("SELECT code FROM grids WHERE village_id <> :v"), {"v": village.id}
    ).scalars()
    assert responsible.grid_leaders(sample_conn, who, list(other_codes)) == {}
    # A grid worker of the village's first grid: that grid, the village; not the next grid.
    first, second = village.grid_ids[:2]
    worker = Principal(name="test-worker", role=Role.GRID_WORKER, grid_ids=frozenset({first}))
    assert_named_and_masked(
        responsible.responsible_for(sample_conn, worker, "grids", first), village.leaders[first]
    )
    assert responsible.responsible_for(sample_conn, worker, "villages", village.id)["name"]
    with pytest.raises(NotFoundError):
        responsible.responsible_for(sample_conn, worker, "grids", second)
    nobody = Principal(name="test-nobody", role=Role.GRID_WORKER, grid_ids=frozenset())
    assert responsible.building_at(sample_conn, nobody, *village.building_point) is None


def test_the_grid_list_names_each_leader_of_the_scope(
    sample_conn: Connection, village: Village
) -> None:
    who = commander(village)
    leaders = responsible.grid_leaders(sample_conn, who, village.grid_codes)
    assert list(leaders) == list(village.grid_codes)
    for grid_id, code in zip(village.grid_ids, village.grid_codes, strict=True):
        assert_named_and_masked(leaders[code], village.leaders[grid_id])


def test_naming_someone_is_audited_without_the_values(
    sample_conn: Connection, village: Village
) -> None:
    who = commander(village)
    responsible.responsible_for(sample_conn, who, "villages", village.id)
    responsible.grid_leaders(sample_conn, who, village.grid_codes)
    events = _staff_events(sample_conn, who.name)
    assert [(e.action, e.object_ids, e.row_count) for e in events] == [
        ("view", [village.secretary.id], 1),
        ("list", [village.leaders[g].id for g in village.grid_ids], len(village.grid_ids)),
    ]
    assert events[0].detail == {"responsible_for": "villages"}
    for event in events:
        for person in (village.secretary, *village.leaders.values()):
            assert person.name not in event.whole
            assert person.phone not in event.whole
            assert person.phone[-4:] not in event.whole


def test_a_retired_or_missing_person_is_not_named(
    sample_conn: Connection, village: Village
) -> None:
    first, second = village.grid_ids[:2]
    sample_conn.execute(
        text("UPDATE staff SET retired_at = now() WHERE id = :s"),
        {"s": village.leaders[first].id},
    )
    sample_conn.execute(text("UPDATE grids SET leader_id = NULL WHERE id = :g"), {"g": second})
    who = commander(village)
    assert responsible.responsible_for(sample_conn, who, "grids", first) == {
        "role": "grid_leader",
        "status": "retired",
    }
    assert responsible.responsible_for(sample_conn, who, "grids", second) == {
        "role": "grid_leader",
        "status": "none",
    }
    assert _staff_events(sample_conn, who.name) == []
