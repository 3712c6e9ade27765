"""The people page: a commander adds, edits and retires the people and teams of own
villages and staffs their shifts; another village's are not found; phones are masked;
forms need the CSRF token; planners are refused; every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import conftest
from tests.geodata.records.test_supervision import town as make_town
from tests.webapp.supervision.test_page import Town, _csrf, login
from webapp import create_app

PHONE = "13912345678"


@pytest.fixture(scope="module")
def town(throwaway_db: conftest.TestDatabase) -> Town:
    db = throwaway_db
    with db.owner.begin() as c:
        make_town(c)
        c.execute(
            text("UPDATE staff SET phone = :p WHERE source_id = 'test:staff/a'"), {"p": PHONE}
        )
    accounts = {
        "admin": conftest.make_account(db, "ppl-admin", "admin"),
        "commander": conftest.make_account(
            db, "ppl-commander", "commander", village_codes=("9900000401",)
        ),
        "planner": conftest.make_account(db, "ppl-planner", "planner"),
    }
    app = create_app(db.settings, engine=db.app, admin_engine=db.owner)
    app.config["TESTING"] = True
    return Town(app, db, accounts)


def _post(client: FlaskClient, path: str, **form: str) -> int:
    return client.post(path, data=form | {"csrf_token": _csrf(client, "/people")}).status_code


def _staff(town: Town, source_id: str) -> tuple[object, ...] | None:
    with town.db.owner.connect() as c:
        row = c.execute(
            text(
                "SELECT name, role, phone, retired_at IS NOT NULL FROM staff WHERE source_id = :s"
            ),
            {"s": source_id},
        ).first()
    return None if row is None else tuple(row)


def test_a_commander_manages_the_people_of_own_village(town: Town) -> None:
    client = login(town, "commander")
    page = client.get("/people").get_data(as_text=True)
    assert "test:staff/a" in page
    assert PHONE not in page  # masked
    assert "139****5678" in page
    add = {"source_id": "web:p1", "name": "王五", "role": "checkpoint_staff",
           "village": "9900000401", "phone": "13800001111"}  # fmt: skip
    assert _post(client, "/people/staff", **add) == 303
    assert _staff(town, "web:p1") == ("王五", "checkpoint_staff", "13800001111", False)
    edit = {"source_id": "web:p1", "name": "", "role": "grid_worker", "phone": ""}
    assert _post(client, "/people/staff/edit", **edit) == 303
    assert _staff(town, "web:p1") == ("王五", "grid_worker", "13800001111", False)
    team = {"source_id": "web:unit", "name": "作战单元", "kind": "combat_unit",
            "village": "9900000401"}  # fmt: skip
    assert _post(client, "/people/teams", **team) == 303
    starts = datetime.now(UTC) + timedelta(days=2)
    ends = starts + timedelta(hours=8)
    shift = {"source_id": "web:s1", "checkpoint": "test:checkpoint/cp1",
             "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}  # fmt: skip
    assert _post(client, "/people/shifts", **shift) == 303
    assert _post(client, "/people/shifts/assign", shift="web:s1", staff="web:p1") == 303
    with town.db.owner.connect() as c:
        count = c.execute(
            text("SELECT staff_count FROM checkpoint_shifts WHERE source_id = 'web:s1'")
        ).scalar()
        actions = set(
            c.execute(
                text("SELECT action FROM audit_events WHERE actor = 'ppl-commander'")
            ).scalars()
        )
    assert count == 1
    assert {"staff_add", "staff_edit", "team_add", "shift_add", "shift_assign"} <= actions
    assert "staff_list" in actions  # the page lists people: audited
    assert _post(client, "/people/shifts/unassign", shift="web:s1", staff="web:p1") == 303
    assert _post(client, "/people/staff/retire", source_id="web:p1") == 303
    assert _staff(town, "web:p1") == ("王五", "grid_worker", "13800001111", True)


def test_another_village_is_not_found_and_nothing_changes(town: Town) -> None:
    client = login(town, "commander")
    add = {"source_id": "web:p2", "name": "赵六", "role": "checkpoint_staff",
           "village": "9900000402"}  # fmt: skip
    assert _post(client, "/people/staff", **add) == 404
    assert _staff(town, "web:p2") is None
    shift = {"source_id": "web:s2", "checkpoint": "test:checkpoint/cp2",
             "starts_at": "2030-01-01T08:00", "ends_at": "2030-01-01T16:00"}  # fmt: skip
    assert _post(client, "/people/shifts", **shift) == 404
    page = client.get("/people").get_data(as_text=True)
    assert "test:checkpoint/cp2" not in page
    assert client.get("/people?village=9900000402").status_code == 404


def test_bad_input_is_a_400_naming_the_field(town: Town) -> None:
    client = login(town, "admin")
    bad = {"source_id": "web:p3", "name": "x", "role": "emperor", "village": "9900000401"}
    answer = client.post("/people/staff", data=bad | {"csrf_token": _csrf(client, "/people")})
    assert answer.status_code == 400
    assert "role" in answer.get_data(as_text=True)
    long_shift = {"source_id": "web:s3", "checkpoint": "test:checkpoint/cp1",
                  "starts_at": "2030-01-01T08:00", "ends_at": "2030-01-02T09:00"}  # fmt: skip
    assert _post(client, "/people/shifts", **long_shift) == 400
    assert _staff(town, "web:p3") is None


def test_forms_need_csrf_and_planners_are_refused(town: Town) -> None:
    client = login(town, "commander")
    add = {"source_id": "web:p4", "name": "x", "role": "checkpoint_staff", "village": "9900000401"}
    assert client.post("/people/staff", data=add).status_code == 400
    assert _staff(town, "web:p4") is None
    planner = login(town, "planner")
    assert planner.get("/people").status_code == 403
