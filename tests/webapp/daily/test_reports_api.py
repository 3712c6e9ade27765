"""The daily reports API and the board on the sample town: the contract's keys, a leader's
confirmation of their grid (201), another grid refused (403 naming it), a second confirmation
refused (400), an amendment, the board listing the units not yet reported; planners may not
read the units' figures."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import text

from tests import conftest
from webapp import create_app


@dataclass(frozen=True)
class DailyTown:
    app: Flask
    accounts: dict[str, conftest.Account]
    mine: str
    theirs: str


@pytest.fixture(scope="module")
def town(throwaway_sample_db: conftest.TestDatabase) -> DailyTown:
    db = throwaway_sample_db
    with db.owner.connect() as c:
        (mine, leader), (theirs, _) = c.execute(
            text(
                "SELECT g.code, g.leader_id FROM grids g WHERE g.leader_id IS NOT NULL"
                " AND EXISTS (SELECT 1 FROM households h WHERE h.grid_id = g.id)"
                " ORDER BY g.code LIMIT 2"
            )
        ).all()
    accounts = {
        "leader": conftest.make_account(db, "daily-leader", "grid_worker", grid_codes=(mine,)),
        "admin": conftest.make_account(db, "daily-admin", "admin"),
        "commander": conftest.make_account(db, "daily-commander", "commander"),
        "planner": conftest.make_account(db, "daily-planner", "planner"),
    }
    with db.owner.begin() as c:
        c.execute(
            text("UPDATE users SET staff_id = :s WHERE username = 'daily-leader'"), {"s": leader}
        )
    app = create_app(db.settings, engine=db.app, admin_engine=db.owner)
    app.config["TESTING"] = True
    return DailyTown(app, accounts, str(mine), str(theirs))


def _as(town: DailyTown, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {town.accounts[who].token}"}


def test_confirm_amend_and_the_board(town: DailyTown) -> None:
    client = town.app.test_client()
    before = client.get("/api/v1/daily/reports", headers=_as(town, "leader"))
    assert before.status_code == 200, before.get_data(as_text=True)
    body = before.get_json()
    assert {"expected", "reported", "on_time", "units"} <= set(body)
    assert {(u["kind"], u["unit"], u["status"]) for u in body["units"] if u["kind"] == "grid"} == {
        ("grid", town.mine, "missing")
    }
    board = client.get("/daily/board", headers=_as(town, "commander"))
    assert board.status_code == 200
    assert f'data-unit="grid:{town.mine}"' in board.get_data(as_text=True)

    other = client.post("/api/v1/daily/reports", json={"unit": town.theirs, "kind": "grid"},
                        headers=_as(town, "leader"))  # fmt: skip
    assert other.status_code == 403
    assert f"grid {town.theirs}: not your unit" in other.get_data(as_text=True)
    made = client.post("/api/v1/daily/reports", json={"unit": town.mine, "note": "quiet",
                       "corrections": {"returnees": 1}}, headers=_as(town, "leader"))  # fmt: skip
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["figures"]["returnees"] == 1
    again = client.post("/api/v1/daily/reports", json={"unit": town.mine},
                        headers=_as(town, "leader"))  # fmt: skip
    assert again.status_code == 400
    assert "amendment" in again.get_data(as_text=True)
    fix = {"unit": town.mine, "corrections": {"returnees": 2}}
    amended = client.post("/api/v1/daily/amendments", json=fix, headers=_as(town, "leader"))
    assert amended.status_code == 200, amended.get_data(as_text=True)
    assert (amended.get_json()["figures"]["returnees"], amended.get_json()["amendments"]) == (2, 1)
    bad = client.post("/api/v1/daily/amendments", json={"unit": town.mine,
                      "corrections": {"returnees": -1}}, headers=_as(town, "admin"))  # fmt: skip
    assert bad.status_code == 400

    page = client.get("/daily/board", headers=_as(town, "commander")).get_data(as_text=True)
    assert f'data-unit="grid:{town.mine}"' not in page
    assert f'data-unit="grid:{town.theirs}"' in page
    assert client.get("/api/v1/daily/reports", headers=_as(town, "planner")).status_code == 403
    assert client.get("/daily/board", headers=_as(town, "leader")).status_code == 403


def test_task_lists_over_http(town: DailyTown) -> None:
    client = town.app.test_client()
    found = client.get("/api/v1/daily/tasks", headers=_as(town, "leader"))
    assert found.status_code == 200, found.get_data(as_text=True)
    body = found.get_json()
    assert [w["worker"] for w in body["workers"]] == ["daily-leader"]
    assert body["workers"][0]["grids"] == [town.mine]
    other = client.get("/api/v1/daily/tasks?worker=someone-else", headers=_as(town, "leader"))
    assert other.status_code == 404
    every = client.get("/api/v1/daily/tasks", headers=_as(town, "admin")).get_json()
    assert "daily-leader" in {w["worker"] for w in every["workers"]}
    assert client.get("/api/v1/daily/tasks", headers=_as(town, "planner")).status_code == 403


def test_the_printable_task_list(town: DailyTown) -> None:
    client = town.app.test_client()
    page = client.get("/daily/tasks", headers=_as(town, "leader"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-worker="daily-leader"' in html
    assert "data-household=" in html
    assert "sample:" not in html


def test_a_session_post_needs_the_csrf_token(town: DailyTown) -> None:
    client = town.app.test_client()

    def token() -> str:
        found = re.search(
            r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
        )
        assert found
        return found.group(1)

    account = town.accounts["admin"]
    signed_in = client.post(
        "/login",
        data={"username": account.username, "password": account.password, "csrf_token": token()},
    )
    assert signed_in.status_code == 302
    body = {"unit": town.theirs, "kind": "grid", "zero": True}
    refused = client.post("/api/v1/daily/reports", json=body)
    assert refused.status_code == 400
    assert "CSRF" in refused.get_json()["message"]
    ok = client.post("/api/v1/daily/reports", json=body, headers={"X-CSRFToken": token()})
    assert ok.status_code == 201, ok.get_data(as_text=True)
    assert ok.get_json()["status"] in ("zero", "late")
