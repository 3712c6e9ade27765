"""The patrol zones API and page: who may use them, CSRF on a session's posts, bad
parameters as 400 naming the field, a refused move as 400 with its reason, a stale proposal
as 409, and apply writing the zones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import conftest
from tests.patrol_town import make_grid_town
from webapp import create_app


@dataclass(frozen=True)
class PatrolTown:
    db: conftest.TestDatabase
    app: Flask
    accounts: dict[str, conftest.Account]


@pytest.fixture(scope="module")
def town(throwaway_db: conftest.TestDatabase) -> PatrolTown:
    with throwaway_db.owner.begin() as conn:
        make_grid_town(conn)
    accounts = {
        role: conftest.make_account(throwaway_db, f"patrols-{role}", role)
        for role in ("admin", "planner", "commander", "analyst")
    }
    accounts["grid_worker"] = conftest.make_account(
        throwaway_db, "patrols-worker", "grid_worker", grid_codes=("PT1-G1",)
    )
    app = create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )
    return PatrolTown(throwaway_db, app, accounts)


def _post(town: PatrolTown, url: str, body: object, role: str = "planner") -> Any:
    headers = {"Authorization": f"Bearer {town.accounts[role].token}"}
    return town.app.test_client().post(url, json=body, headers=headers)


def _propose(town: PatrolTown, **body: object) -> dict[str, Any]:
    answer = _post(town, "/api/v1/plan/patrols/propose", {"zones": 3, "period": "night", **body})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    found: dict[str, Any] = answer.get_json()
    return found


def _assignment(plan: dict[str, Any]) -> dict[str, Any]:
    feats = plan["units"]["features"]
    return {
        "town": plan["town"],
        "period": plan["period"],
        "units": [f["properties"]["unit"] for f in feats],
        "zones": [f["properties"]["zone"] for f in feats],
    }


ENDPOINTS = [
    ("post", "/api/v1/plan/patrols/propose", {"zones": 2, "period": "day"}),
    ("post", "/api/v1/plan/patrols/rescore", {}),
    ("post", "/api/v1/plan/patrols/apply", {}),
    ("get", "/plan/patrols", None),
]


@pytest.mark.parametrize("role", ["grid_worker", "analyst", "commander"])
@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
def test_only_planners_and_admins_may_plan_patrols(
    town: PatrolTown, role: str, method: str, url: str, body: object
) -> None:
    headers = {"Authorization": f"Bearer {town.accounts[role].token}"}
    response = getattr(town.app.test_client(), method)(url, json=body, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["planner", "admin"])
def test_the_page_and_its_link_for_planners_and_admins(town: PatrolTown, role: str) -> None:
    headers = {"Authorization": f"Bearer {town.accounts[role].token}"}
    client = town.app.test_client()
    page = client.get("/plan/patrols", headers=headers)
    assert page.status_code == 200
    assert 'href="/plan/patrols"' in page.get_data(as_text=True)
    assert "/api/v1/plan/patrols/rescore" in page.get_data(as_text=True)
    other = client.get("/plan", headers=headers).get_data(as_text=True)
    assert 'href="/plan/patrols"' in other
    zh = client.get("/plan/patrols?lang=zh_CN", headers=headers).get_data(as_text=True)
    assert "巡逻片区规划" in zh


def test_no_token_no_patrol_plan(town: PatrolTown) -> None:
    client = town.app.test_client()
    assert client.post("/api/v1/plan/patrols/propose", json={}).status_code == 401


def _csrf_token(client: FlaskClient) -> str:
    found = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    )
    assert found
    return found.group(1)


def test_a_session_post_needs_the_csrf_token(town: PatrolTown) -> None:
    client = town.app.test_client()
    account = town.accounts["planner"]
    signed_in = client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": _csrf_token(client),
        },
    )
    assert signed_in.status_code == 302
    body = {"zones": 2, "period": "day"}
    for url in ("propose", "rescore", "apply"):
        refused = client.post(f"/api/v1/plan/patrols/{url}", json=body)
        assert refused.status_code == 400
        assert "CSRF" in refused.get_json()["message"]
    ok = client.post(
        "/api/v1/plan/patrols/propose", json=body, headers={"X-CSRFToken": _csrf_token(client)}
    )
    assert ok.status_code == 200
    assert len(ok.get_json()["zones"]) == 2


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("propose", {"zones": 0, "period": "day"}, "zones"),
        ("propose", {"zones": 10**30, "period": "day"}, "zones"),
        ("propose", {"zones": 2, "period": "dusk"}, "period"),
        ("propose", {"zones": 2, "period": "day", "village": "a\x00b"}, "village"),
        ("propose", {"zones": 2, "period": "day", "by": "metres"}, "by"),
        ("propose", {"zones": 2, "period": "day", "extra": 1}, "unknown fields"),
        ("rescore", {"town": "x", "period": "day", "units": [], "zones": [], "unit": 0,
                     "zone": 1}, "town"),
        ("rescore", {"town": "0" * 32, "period": "day", "units": [-1], "zones": [1],
                     "unit": 0, "zone": 1}, "units"),
        ("apply", {"town": "0" * 32, "period": "day", "units": [1], "zones": ["a"]}, "zones"),
    ],
)  # fmt: skip
def test_bad_parameters_are_400_naming_the_field(
    town: PatrolTown, url: str, body: dict[str, Any], field: str
) -> None:
    response = _post(town, f"/api/v1/plan/patrols/{url}", body)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(field)


def test_refusals_name_the_reason(town: PatrolTown) -> None:
    too_many = _post(town, "/api/v1/plan/patrols/propose", {"zones": 500, "period": "day"})
    assert too_many.status_code == 400
    assert re.search(
        r"500 zones for \d+ street blocks: at most \d+", too_many.get_json()["message"]
    )
    unknown = _post(
        town, "/api/v1/plan/patrols/propose", {"zones": 2, "period": "day", "village": "NOPE"}
    )
    assert unknown.status_code == 404
    plan = _propose(town)
    body = _assignment(plan)
    same = _post(
        town, "/api/v1/plan/patrols/rescore", {**body, "unit": body["units"][0],
                                               "zone": body["zones"][0]},
    )  # fmt: skip
    assert same.status_code == 400
    assert "already" in same.get_json()["message"]
    stale = _post(town, "/api/v1/plan/patrols/apply", {**body, "town": "f" * 32})
    assert stale.status_code == 409
    assert "propose again" in stale.get_json()["message"]


def test_propose_move_apply(town: PatrolTown) -> None:
    plan = _propose(town)
    # the planner counts every household of the town (row security as the town)
    assert sum(z["households"] for z in plan["zones"]) == 90
    body = _assignment(plan)
    zone_of = dict(zip(body["units"], body["zones"], strict=True))
    moved = None
    for feature in plan["units"]["features"]:
        unit = feature["properties"]["unit"]
        for other in sorted(set(body["zones"]) - {zone_of[unit]}):
            answer = _post(
                town, "/api/v1/plan/patrols/rescore", {**body, "unit": unit, "zone": other}
            )
            if answer.status_code == 200:
                moved = (unit, other, answer.get_json())
                break
            assert answer.status_code == 400
            assert (
                "pieces" in answer.get_json()["message"] or "empty" in answer.get_json()["message"]
            )
        if moved:
            break
    assert moved is not None
    unit, other, answer = moved
    assert other in answer["changed"]
    zones = [other if u == unit else z for u, z in zip(body["units"], body["zones"], strict=True)]
    applied = _post(town, "/api/v1/plan/patrols/apply", {**body, "zones": zones})
    assert applied.status_code == 200, applied.get_data(as_text=True)
    assert len(applied.get_json()["applied"]) == 3
    with town.db.owner.connect() as conn:
        written = conn.execute(
            text("SELECT count(*) FROM patrol_zones WHERE period = 'night'")
        ).scalar_one()
        audited = conn.execute(
            text("SELECT actor FROM audit_events WHERE action = 'plan_patrol_zones'"
                 " ORDER BY id DESC LIMIT 1")
        ).scalar_one()  # fmt: skip
    assert written == 3
    assert audited == "patrols-planner"
