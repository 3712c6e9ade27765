"""The supervision page: commanders see and act on their villages' checkpoints only, forms
need the CSRF token, text is escaped, planners are refused, the overdue list as JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import conftest
from tests.geodata.records.test_supervision import town as make_town
from webapp import create_app

CHECKS = ("staff_present", "temperatures_taken", "register_kept", "masks", "disinfection")


@dataclass(frozen=True)
class Town:
    app: Flask
    db: conftest.TestDatabase
    accounts: dict[str, conftest.Account]


@pytest.fixture(scope="module")
def town(throwaway_db: conftest.TestDatabase) -> Town:
    db = throwaway_db
    with db.owner.begin() as c:
        make_town(c)
    accounts = {
        "admin": conftest.make_account(db, "sup-admin", "admin"),
        "commander": conftest.make_account(
            db, "sup-commander", "commander", village_codes=("9900000401",)
        ),
        "planner": conftest.make_account(db, "sup-planner-web", "planner"),
    }
    app = create_app(db.settings, engine=db.app, admin_engine=db.owner)
    app.config["TESTING"] = True
    return Town(app, db, accounts)


def _csrf(client: FlaskClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def login(town: Town, role: str) -> FlaskClient:
    client = town.app.test_client()
    account = town.accounts[role]
    done = client.post(
        "/login",
        data={"username": account.username, "password": account.password,
              "csrf_token": _csrf(client)},
    )  # fmt: skip
    assert done.status_code == 302
    return client


def test_a_commander_inspects_and_tracks_an_item(town: Town) -> None:
    client = login(town, "commander")
    page = client.get("/supervision").get_data(as_text=True)
    assert "test:checkpoint/cp1" in page  # not inspected yet
    assert "test:checkpoint/cp2" not in page  # another village's
    token = _csrf(client, "/supervision")
    form = {"checkpoint": "test:checkpoint/cp1", "inspector": "test:staff/b",
            "notes": "<script>alert(1)</script>", "masks": "on", "csrf_token": token}  # fmt: skip
    assert client.post("/supervision/inspections", data=form).status_code == 303
    page = client.get("/supervision").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    with town.db.owner.connect() as c:
        row = c.execute(
            text("SELECT " + ", ".join(CHECKS) + " FROM inspections ORDER BY id DESC LIMIT 1")  # noqa: S608 (column names of this test)
        ).one()
    assert tuple(row) == (False, False, False, True, False)

    item = {"checkpoint": "test:checkpoint/cp1", "description": "no register",
            "owner": "test:staff/a", "deadline": "2020-01-01T08:00",
            "csrf_token": token}  # fmt: skip
    assert client.post("/supervision/rectifications", data=item).status_code == 303
    overdue = client.get("/api/v1/supervision/overdue").get_json()["items"]
    assert [i["description"] for i in overdue] == ["no register"]
    item_id = overdue[0]["id"]
    fix = {"by": "test:staff/a", "version": "1", "csrf_token": token}
    assert client.post(f"/supervision/rectifications/{item_id}/fix", data=fix).status_code == 303
    same = client.post(f"/supervision/rectifications/{item_id}/verify",
                       data={**fix, "version": "2"})  # fmt: skip
    assert same.status_code == 400
    stale = client.post(f"/supervision/rectifications/{item_id}/verify",
                        data={**fix, "by": "test:staff/b"})  # fmt: skip
    assert stale.status_code == 409
    ok = client.post(f"/supervision/rectifications/{item_id}/verify",
                     data={**fix, "by": "test:staff/b", "version": "2"})  # fmt: skip
    assert ok.status_code == 303
    assert client.get("/api/v1/supervision/overdue").get_json()["items"] == []


def test_scope_csrf_and_roles(town: Town) -> None:
    client = login(town, "commander")
    token = _csrf(client, "/supervision")
    other = {"checkpoint": "test:checkpoint/cp2", "inspector": "test:staff/b", "csrf_token": token}
    assert client.post("/supervision/inspections", data=other).status_code == 404
    no_csrf = {"checkpoint": "test:checkpoint/cp1", "inspector": "test:staff/b"}
    assert client.post("/supervision/inspections", data=no_csrf).status_code == 400
    bad = {"checkpoint": "test:checkpoint/cp1", "inspector": "", "csrf_token": token}
    refused = client.post("/supervision/inspections", data=bad)
    assert refused.status_code == 400
    assert "inspector" in refused.get_data(as_text=True)
    assert login(town, "planner").get("/supervision").status_code == 403
    admin_page = login(town, "admin").get("/supervision").get_data(as_text=True)
    assert "test:checkpoint/cp2" in admin_page
