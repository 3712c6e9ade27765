"""The campaign API on the sample town: 201 with the campaign, 400 naming the field, 403 for
a role or a village that may not, CSRF for a session, progress exact or published."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from geodata.town_time import TOWN_TIMEZONE
from tests import conftest
from webapp import create_app

GRID_KEYS = {"grid", "households", "seen", "people_registered", "people_counted", "behind_pace"}


@dataclass(frozen=True)
class CampaignTown:
    app: Flask
    accounts: dict[str, conftest.Account]
    villages: list[str]
    start: str
    deadline: str
    closed_day: str


@pytest.fixture(scope="module")
def town(throwaway_sample_db: conftest.TestDatabase) -> CampaignTown:
    db = throwaway_sample_db
    with db.owner.connect() as c:
        villages = [
            str(v) for v in c.execute(text("SELECT code FROM villages ORDER BY code")).scalars()
        ]
        last = c.execute(text("SELECT max(visited_at) FROM visits")).scalar_one()
    day = last.astimezone(TOWN_TIMEZONE).date()
    accounts = {
        role: conftest.make_account(db, f"cmp-api-{role}", role)
        for role in ("admin", "planner", "analyst")
    }
    accounts["commander"] = conftest.make_account(
        db, "cmp-api-commander", "commander", village_codes=(villages[0],)
    )
    with db.owner.connect() as c:
        grid = str(c.execute(text("SELECT min(code) FROM grids")).scalar_one())
    accounts["grid_worker"] = conftest.make_account(
        db, "cmp-api-grid-worker", "grid_worker", grid_codes=(grid,)
    )
    app = create_app(db.settings, engine=db.app, admin_engine=db.owner)
    app.config["TESTING"] = True
    return CampaignTown(
        app,
        accounts,
        villages,
        start=f"{day - timedelta(days=5)}T08:00",
        deadline=f"{day + timedelta(days=2)}T08:00",
        closed_day=f"{day - timedelta(days=2)}T12:00",
    )


def _as(town: CampaignTown, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {town.accounts[who].token}"}


def _body(town: CampaignTown, **more: object) -> dict[str, object]:
    return {
        "name": "入户排查",
        "villages": town.villages[:2],
        "start": town.start,
        "deadline": town.deadline,
    } | more


def test_an_admin_creates_a_campaign_and_reads_its_progress(town: CampaignTown) -> None:
    client = town.app.test_client()
    made = client.post("/api/v1/campaigns", json=_body(town), headers=_as(town, "admin"))
    assert made.status_code == 201, made.get_data(as_text=True)
    campaign = made.get_json()
    assert campaign["name"] == "入户排查"
    assert campaign["start"] == f"{town.start}:00+08:00"
    listed = client.get("/api/v1/campaigns", headers=_as(town, "planner"))
    assert listed.status_code == 200
    assert campaign["id"] in {c["id"] for c in listed.get_json()["campaigns"]}
    shown = client.get(
        f"/api/v1/campaigns/{campaign['id']}/progress",
        query_string={"at": town.closed_day},
        headers=_as(town, "admin"),
    )
    assert shown.status_code == 200
    report = shown.get_json()
    assert set(report) == {"campaign", "grids"}
    assert report["campaign"]["figures"] == "exact"
    assert [g["grid"] for g in report["grids"]] == campaign["grids"]
    assert all(set(g) == GRID_KEYS for g in report["grids"])
    assert any(g["seen"] > 0 for g in report["grids"])


@pytest.mark.parametrize("who", ["planner", "analyst"])
def test_planners_and_analysts_read_published_figures(town: CampaignTown, who: str) -> None:
    client = town.app.test_client()
    made = client.post(
        "/api/v1/campaigns", json=_body(town, villages=town.villages), headers=_as(town, "admin")
    ).get_json()
    shown = client.get(
        f"/api/v1/campaigns/{made['id']}/progress",
        query_string={"at": town.closed_day},
        headers=_as(town, who),
    )
    assert shown.status_code == 200
    report = shown.get_json()
    assert report["campaign"]["figures"] == "published"
    values = [g[k] for g in report["grids"] for k in GRID_KEYS - {"grid", "behind_pace"}]
    assert any(v is not None for v in values)
    assert all(v is None or (v % 5 == 0 and v >= 5) for v in values)
    refused = client.post("/api/v1/campaigns", json=_body(town), headers=_as(town, who))
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"deadline": None}, "deadline"),
        ({"start": "soon"}, "start"),
        ({"name": "  "}, "name"),
        ({"villages": ["nowhere"]}, "villages"),
        ({"villages": None, "grids": []}, "grids"),
        ({"grids": ["x"]}, "scope"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    town: CampaignTown, change: dict[str, object], field: str
) -> None:
    body = {k: v for k, v in (_body(town) | change).items() if v is not None}
    if field == "deadline":
        body["deadline"] = town.start
    answer = town.app.test_client().post("/api/v1/campaigns", json=body, headers=_as(town, "admin"))
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert field in answer.get_json()["message"]


def test_a_commander_creates_only_over_their_villages(town: CampaignTown) -> None:
    client = town.app.test_client()
    own = client.post(
        "/api/v1/campaigns",
        json=_body(town, villages=[town.villages[0]]),
        headers=_as(town, "commander"),
    )
    assert own.status_code == 201
    other = client.post(
        "/api/v1/campaigns",
        json=_body(town, villages=[town.villages[1]]),
        headers=_as(town, "commander"),
    )
    assert other.status_code == 403
    worker = client.post("/api/v1/campaigns", json=_body(town), headers=_as(town, "grid_worker"))
    assert worker.status_code == 403
    theirs = client.post(
        "/api/v1/campaigns",
        json=_body(town, villages=[town.villages[1]]),
        headers=_as(town, "admin"),
    ).get_json()
    hidden = client.get(
        f"/api/v1/campaigns/{theirs['id']}/progress", headers=_as(town, "commander")
    )
    assert hidden.status_code == 404
    bad_at = client.get(
        f"/api/v1/campaigns/{theirs['id']}/progress",
        query_string={"at": "yesterday"},
        headers=_as(town, "admin"),
    )
    assert bad_at.status_code == 400
    assert "at" in bad_at.get_json()["message"]


def _csrf_token(client: FlaskClient) -> str:
    found = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    )
    assert found
    return found.group(1)


def test_a_session_post_needs_the_csrf_token(town: CampaignTown) -> None:
    client = town.app.test_client()
    account = town.accounts["admin"]
    signed_in = client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": _csrf_token(client),
        },
    )
    assert signed_in.status_code == 302
    refused = client.post("/api/v1/campaigns", json=_body(town))
    assert refused.status_code == 400
    assert "CSRF" in refused.get_json()["message"]
    ok = client.post(
        "/api/v1/campaigns", json=_body(town), headers={"X-CSRFToken": _csrf_token(client)}
    )
    assert ok.status_code == 201
