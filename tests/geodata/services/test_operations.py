"""The command post's changes on the sample town: state now or planned, replayed as of; the
version that guards them; refusals that name the field and change nothing; scope. People
on shifts: test_shift_staffing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text

from geodata.auth.access import ForbiddenError, Principal, local_operator
from geodata.errors import NotFoundError
from geodata.params import RequestError, validate
from geodata.params.operations import StateChangeParams
from geodata.records.as_of import entrance_states
from geodata.services.operations import (
    OperationRefused,
    StaleVersion,
    set_state,
    show,
)
from geodata.vocab import Role

ADMIN = local_operator("tester")


def _staff(conn: Connection, village_id: int | None = None) -> str:
    where = "" if village_id is None else " WHERE village_id = :v"
    found = conn.execute(
        text(f"SELECT source_id FROM staff{where} ORDER BY id LIMIT 1"),  # noqa: S608
        {"v": village_id},
    ).scalar()
    if found is None:
        found = "ops-test-staff"
        conn.execute(
            text(
                "INSERT INTO staff (source_id, name, role, village_id) VALUES"
                " (:s, 'Test Person', 'checkpoint_staff',"
                " coalesce(:v, (SELECT min(id) FROM villages)))"
            ),
            {"s": found, "v": village_id},
        )
    return str(found)


def _entrance(conn: Connection) -> Any:
    return conn.execute(
        text(
            "SELECT e.id, e.source_id, e.version, e.state::text AS state,"
            " coalesce(e.village_id, c.village_id) AS village_id FROM entrances e"
            " LEFT JOIN compounds c ON c.id = e.compound_id WHERE e.state = 'open'"
            " ORDER BY e.id LIMIT 1"
        )
    ).one()


def _change(**fields: object) -> StateChangeParams:
    return validate(StateChangeParams, fields)


def test_a_change_now_sets_the_state_bumps_the_version_and_is_replayed(
    sample_conn: Connection,
) -> None:
    e = _entrance(sample_conn)
    staff = _staff(sample_conn)
    before = datetime.now(UTC)
    done = set_state(
        sample_conn,
        ADMIN,
        "entrance",
        int(e.id),
        _change(state="sealed", version=e.version, reason="outbreak", responsible=staff),
    )
    assert done["state"] == "sealed"
    assert done["version"] == e.version + 1
    assert done["planned"] == []
    assert entrance_states(sample_conn, before - timedelta(seconds=1), entrance_ids=[e.id])[1] == [
        "open"
    ]
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert entrance_states(sample_conn, later, entrance_ids=[e.id])[1] == ["sealed"]
    event = sample_conn.execute(
        text(
            "SELECT reason, responsible_id IS NOT NULL AS who, user_name FROM entrance_events"
            " WHERE entrance_id = :e ORDER BY id DESC LIMIT 1"
        ),
        {"e": e.id},
    ).one()
    assert event.reason == "outbreak"
    assert event.who
    assert event.user_name == ADMIN.name
    audited = sample_conn.execute(
        text("SELECT count(*) FROM audit_events WHERE action = 'set_entrance_state'")
    ).scalar()
    assert audited == 1


def test_a_planned_change_is_listed_apart_and_replayed_after_its_time(
    sample_conn: Connection,
) -> None:
    e = _entrance(sample_conn)
    at = datetime.now(UTC) + timedelta(hours=2)
    done = set_state(
        sample_conn,
        ADMIN,
        "entrance",
        int(e.id),
        _change(
            state="sealed",
            version=e.version,
            reason="tonight",
            responsible=_staff(sample_conn),
            effective_at=at.isoformat(),
        ),
    )
    assert done["state"] == "open"
    assert [p["state"] for p in done["planned"]] == ["sealed"]
    assert (
        sample_conn.execute(
            text("SELECT state::text FROM entrances WHERE id = :e"), {"e": e.id}
        ).scalar()
        == "open"
    )
    assert entrance_states(sample_conn, at + timedelta(minutes=1), entrance_ids=[e.id])[1] == [
        "sealed"
    ]
    assert entrance_states(sample_conn, at - timedelta(minutes=1), entrance_ids=[e.id])[1] == [
        "open"
    ]


def test_a_checkpoint_change_writes_one_event_only(sample_conn: Connection) -> None:
    cp = sample_conn.execute(
        text("SELECT id, version FROM checkpoints WHERE state = 'active' ORDER BY id LIMIT 1")
    ).one()
    count = "SELECT count(*) FROM checkpoint_events WHERE checkpoint_id = :c"
    before = int(sample_conn.execute(text(count), {"c": cp.id}).scalar_one())
    done = set_state(
        sample_conn,
        ADMIN,
        "checkpoint",
        int(cp.id),
        _change(state="closed", version=cp.version, reason="r", responsible=_staff(sample_conn)),
    )
    assert done["state"] == "closed"
    assert sample_conn.execute(text(count), {"c": cp.id}).scalar() == before + 1


def test_a_stale_version_is_refused_with_the_current_object(sample_conn: Connection) -> None:
    e = _entrance(sample_conn)
    staff = _staff(sample_conn)
    ask = _change(state="sealed", version=e.version, reason="r", responsible=staff)
    set_state(sample_conn, ADMIN, "entrance", int(e.id), ask)
    with pytest.raises(StaleVersion) as refused:
        set_state(sample_conn, ADMIN, "entrance", int(e.id), ask)
    assert refused.value.current["version"] == e.version + 1
    assert refused.value.current["state"] == "sealed"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"state": "ajar"}, "state"),
        ({"responsible": "nobody-of-that-id"}, "responsible"),
        ({"effective_at": "2020-01-01T00:00:00+00:00"}, "effective_at"),
    ],
)
def test_refusals_name_the_field_and_change_nothing(
    sample_conn: Connection, fields: dict[str, object], named: str
) -> None:
    e = _entrance(sample_conn)
    asked: dict[str, object] = {
        "state": "sealed",
        "version": e.version,
        "reason": "r",
        "responsible": _staff(sample_conn),
    }
    with pytest.raises(OperationRefused, match=f"entrance {e.source_id}: {named}: "):
        set_state(sample_conn, ADMIN, "entrance", int(e.id), _change(**(asked | fields)))
    assert _entrance(sample_conn).version == e.version


def test_a_planned_time_just_inside_the_grace_is_taken_as_now(sample_conn: Connection) -> None:
    e = _entrance(sample_conn)
    at = datetime.now(UTC) - timedelta(minutes=2)
    done = set_state(
        sample_conn,
        ADMIN,
        "entrance",
        int(e.id),
        _change(
            state="sealed",
            version=e.version,
            reason="r",
            responsible=_staff(sample_conn),
            effective_at=at.isoformat(),
        ),
    )
    assert done["state"] == "sealed"


def test_a_missing_reason_is_a_request_error_naming_it() -> None:
    with pytest.raises(RequestError, match=r"^reason: required$"):
        _change(state="sealed", version=1, responsible="x")
    with pytest.raises(RequestError, match=r"^reason: required$"):
        _change(state="sealed", version=1, responsible="x", reason="  ")


@pytest.mark.parametrize("role", [Role.PLANNER, Role.ANALYST, Role.GRID_WORKER])
def test_roles_without_operate_are_refused(sample_conn: Connection, role: Role) -> None:
    e = _entrance(sample_conn)
    who = Principal(name="p", role=role, grid_ids=None)
    with pytest.raises(ForbiddenError):
        set_state(
            sample_conn,
            who,
            "entrance",
            int(e.id),
            _change(state="sealed", version=e.version, reason="r", responsible="x"),
        )


def test_a_commander_of_another_village_finds_nothing(sample_conn: Connection) -> None:
    e = _entrance(sample_conn)
    other: list[int] = sample_conn.execute(
        text("SELECT array_agg(id) FROM grids WHERE village_id <> :v"), {"v": e.village_id}
    ).scalar_one()
    who = Principal(name="c", role=Role.COMMANDER, grid_ids=frozenset(other))
    ask = _change(state="sealed", version=e.version, reason="r", responsible=_staff(sample_conn))
    with pytest.raises(NotFoundError):
        set_state(sample_conn, who, "entrance", int(e.id), ask)
    with pytest.raises(NotFoundError):
        show(sample_conn, who, "entrance", int(e.id))
    own: list[int] = sample_conn.execute(
        text("SELECT array_agg(id) FROM grids WHERE village_id = :v"), {"v": e.village_id}
    ).scalar_one()
    mine = Principal(name="c", role=Role.COMMANDER, grid_ids=frozenset(own))
    assert set_state(sample_conn, mine, "entrance", int(e.id), ask)["state"] == "sealed"


def test_the_grace_is_the_town_setting(sample_conn: Connection) -> None:
    from geodata.records.town_settings import set_setting

    e = _entrance(sample_conn)
    at = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    ask = _change(
        state="sealed",
        version=e.version,
        reason="r",
        responsible=_staff(sample_conn),
        effective_at=at,
    )
    with pytest.raises(OperationRefused, match="more than 5 minutes in the past"):
        set_state(sample_conn, ADMIN, "entrance", int(e.id), ask)
    set_setting(sample_conn, "planned_change_grace_minutes", "60", actor="test")
    assert set_state(sample_conn, ADMIN, "entrance", int(e.id), ask)["state"] == "sealed"
