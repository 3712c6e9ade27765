"""The quarantine API on the sample town, through the app's own role and row security:
201 then 409 for a second active quarantine, lists and due checks of the caller's grids, a
check written once per Idempotency-Key, °F refused with a hint, fever alerts closed with
what was done, releases once, roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import conftest
from webapp import create_app


@dataclass(frozen=True)
class Town:
    app: Flask
    db: conftest.TestDatabase
    accounts: dict[str, conftest.Account]
    residents: list[str]
    grid: str


@pytest.fixture(scope="module")
def town(throwaway_sample_db: conftest.TestDatabase) -> Town:
    db = throwaway_sample_db
    with db.owner.connect() as c:
        grid = str(c.execute(text("SELECT code FROM grids ORDER BY id LIMIT 1")).scalar_one())
        residents = [
            str(r)
            for r in c.execute(
                text(
                    "SELECT r.source_id FROM residents r JOIN households h ON h.id = r.household_id"
                    " JOIN grids g ON g.id = h.grid_id WHERE g.code = :g AND NOT EXISTS"
                    " (SELECT 1 FROM quarantines q WHERE q.resident_id = r.id)"
                    " ORDER BY r.id LIMIT 3"
                ),
                {"g": grid},
            ).scalars()
        ]
        other = str(
            c.execute(text("SELECT code FROM grids WHERE code <> :g LIMIT 1"), {"g": grid}).scalar()
        )
    accounts = {
        "admin": conftest.make_account(db, "qa-admin", "admin"),
        "worker": conftest.make_account(db, "qa-worker", "grid_worker", grid_codes=(grid,)),
        "other": conftest.make_account(db, "qa-other", "grid_worker", grid_codes=(other,)),
        "commander": conftest.make_account(db, "qa-commander", "commander"),
        "planner": conftest.make_account(db, "qa-planner", "planner"),
    }
    app = create_app(db.settings, engine=db.app, admin_engine=db.owner)
    app.config["TESTING"] = True
    return Town(app, db, accounts, residents, grid)


def _as(town: Town, who: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {town.accounts[who].token}", **more}


def _client(town: Town) -> FlaskClient:
    return town.app.test_client()


def _start(hours_ago: int = 2) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()


def test_register_then_a_second_is_a_conflict(town: Town) -> None:
    c = _client(town)
    body = {"resident": town.residents[0], "type": "home", "reason": "returnee",
            "origin": "武汉", "start": _start()}  # fmt: skip
    made = c.post("/api/v1/quarantines", json=body, headers=_as(town, "worker"))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["grid"] == town.grid
    again = c.post("/api/v1/quarantines", json=body, headers=_as(town, "worker"))
    assert again.status_code == 409
    assert "already in active quarantine" in again.get_json()["message"]
    elsewhere = c.post("/api/v1/quarantines", json=body | {"resident": town.residents[1]},
                       headers=_as(town, "other"))  # fmt: skip
    assert elsewhere.status_code == 404
    assert c.post("/api/v1/quarantines", json=body, headers=_as(town, "planner")).status_code == 403
    bad = c.post("/api/v1/quarantines", json=body | {"type": "hotel"}, headers=_as(town, "admin"))
    assert bad.status_code == 400
    assert "type" in bad.get_json()["message"]


def test_lists_and_due_checks_are_scoped(town: Town) -> None:
    c = _client(town)
    body = {"resident": town.residents[2], "type": "observation", "reason": "fever",
            "start": _start(30)}  # fmt: skip
    qid = c.post("/api/v1/quarantines", json=body, headers=_as(town, "admin")).get_json()["id"]
    mine = c.get("/api/v1/quarantines?status=active", headers=_as(town, "worker")).get_json()
    assert qid in {q["id"] for q in mine["quarantines"]}
    theirs = c.get("/api/v1/quarantines", headers=_as(town, "other")).get_json()
    assert qid not in {q["id"] for q in theirs["quarantines"]}
    assert all(q["grid"] != town.grid for q in theirs["quarantines"])
    due = c.get("/api/v1/quarantines/due", headers=_as(town, "worker")).get_json()
    assert qid in {x["quarantine"] for x in due["checks"]}
    assert c.get("/api/v1/quarantines?status=gone", headers=_as(town, "worker")).status_code == 400
    assert c.get("/api/v1/quarantines", headers=_as(town, "planner")).status_code == 403


def test_a_check_once_per_key_and_a_fever_alert(town: Town) -> None:
    c = _client(town)
    listed = c.get("/api/v1/quarantines?status=active", headers=_as(town, "worker")).get_json()
    qid = listed["quarantines"][0]["id"]
    url = f"/api/v1/quarantines/{qid}/checks"
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    f = c.post(url, json={"temperature_c": 99.1, "checked_at": at}, headers=_as(town, "worker"))
    assert f.status_code == 400
    assert "°F" in f.get_json()["message"]
    key = _as(town, "worker", **{"Idempotency-Key": "phone-1-check-7"})
    first = c.post(url, json={"temperature_c": 38.1, "checked_at": at}, headers=key)
    assert first.status_code == 201, first.get_json()
    replay = c.post(url, json={"temperature_c": 38.1, "checked_at": at}, headers=key)
    assert replay.status_code == 200
    assert replay.get_json() == first.get_json()
    with town.db.owner.connect() as conn:
        n = conn.execute(
            text(
                "SELECT count(*) FROM quarantine_checks"
                " WHERE quarantine_id = :q AND checked_at = :at"
            ),
            {"q": qid, "at": datetime.fromisoformat(at)},
        ).scalar()
    assert n == 1
    alert = first.get_json()["fever_alert"]
    opened = c.get("/api/v1/fever-alerts", headers=_as(town, "worker")).get_json()["alerts"]
    assert alert in {a["id"] for a in opened}
    other = c.post(f"/api/v1/fever-alerts/{alert}/close", json={"action": "clinic"},
                   headers=_as(town, "other"))  # fmt: skip
    assert other.status_code == 404
    closed = c.post(f"/api/v1/fever-alerts/{alert}/close", json={"action": "sent to clinic"},
                    headers=_as(town, "worker"))  # fmt: skip
    assert closed.get_json()["closed"] is True
    assert alert not in {
        a["id"]
        for a in c.get("/api/v1/fever-alerts", headers=_as(town, "worker")).get_json()["alerts"]
    }


def test_release_once_by_a_commander(town: Town) -> None:
    c = _client(town)
    listed = c.get("/api/v1/quarantines?status=active", headers=_as(town, "admin")).get_json()
    qid = listed["quarantines"][-1]["id"]
    url = f"/api/v1/quarantines/{qid}/release"
    assert c.post(url, json={"reason": "x"}, headers=_as(town, "worker")).status_code == 403
    first = c.post(url, json={"reason": "negative"}, headers=_as(town, "commander")).get_json()
    second = c.post(url, json={"reason": "again"}, headers=_as(town, "commander")).get_json()
    assert (first["released"], second["released"]) == (True, False)
    assert second["message"] == "released already"


def test_missed_figures_exact_or_published(town: Town) -> None:
    c = _client(town)
    exact = c.get("/api/v1/quarantines/missed", headers=_as(town, "commander")).get_json()
    assert exact["disclosure"] == "exact"
    with town.db.owner.connect() as conn:
        from geodata.records.quarantines import checks_per_grid
        from geodata.records.town_settings import town_timezone

        now = datetime.now(UTC)
        truth = checks_per_grid(conn, now.astimezone(town_timezone(conn)).date(), now)
    assert {
        g["grid"]: (g["checks_due"], g["missed"]) for g in exact["grids"] if g["checks_due"]
    } == truth
    published = c.get("/api/v1/quarantines/missed", headers=_as(town, "planner")).get_json()
    assert published["disclosure"] == "published"
    values = [v for g in published["grids"] for v in (g["checks_due"], g["missed"])]
    assert all(v is None or v % 5 == 0 for v in values)
    assert c.get("/api/v1/quarantines/due", headers=_as(town, "planner")).status_code == 403
