"""The planning API: propose, score and apply checkpoints, the seal plan; roles, CSRF, audit.

Runs on a database of its own with the sample town, since applying a plan writes to it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from geodata.analysis.placement.plan import PlanRequest
from geodata.auth.access import local_operator
from geodata.db.cluster import LocalCluster
from geodata.services.planning import checkpoint_plan_for, seal_plan_for
from tests import conftest
from webapp import create_app

TIMINGS = ("build_s", "solve_s")


@dataclass(frozen=True)
class PlanTown:
    db: conftest.TestDatabase
    app: Flask
    accounts: dict[str, conftest.Account]


@pytest.fixture(scope="module")
def town(cluster: LocalCluster) -> Iterator[PlanTown]:
    from geodata.samples.town import load_sample

    database = conftest._make_database(cluster, f"wangge_plan_api_{os.getpid()}")
    try:
        with database.owner.begin() as conn:
            load_sample(conn, seed=2020)
            grid = conn.execute(text("SELECT code FROM grids ORDER BY id LIMIT 1")).scalar_one()
        accounts = {
            "planner": conftest.make_account(database, "plan-planner", "planner"),
            "analyst": conftest.make_account(database, "plan-analyst", "analyst"),
            "grid_worker": conftest.make_account(
                database, "plan-worker", "grid_worker", grid_codes=(str(grid),)
            ),
        }
        yield PlanTown(
            database,
            create_app(database.settings, engine=database.app, admin_engine=database.owner),
            accounts,
        )
    finally:
        database.owner.dispose()
        database.app.dispose()
        cluster.drop_database(database.name)


def _bearer(town: PlanTown, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {town.accounts[role].token}"}


def _post(town: PlanTown, url: str, body: object, role: str = "planner") -> Any:
    return town.app.test_client().post(url, json=body, headers=_bearer(town, role))


def _rows(town: PlanTown, sql: str, **params: object) -> list[Any]:
    with town.db.owner.connect() as conn:
        return list(conn.execute(text(sql), params).all())


# -- propose and score ---------------------------------------------------------------------


def test_propose_answers_as_the_cli(town: PlanTown) -> None:
    body = {"budget": 5, "radius_m": 500, "keep_existing": False}
    response = _post(town, "/api/v1/plan/checkpoints", body)
    assert response.status_code == 200, response.get_data(as_text=True)
    plan = response.get_json()
    with town.db.owner.begin() as conn:
        expected = checkpoint_plan_for(
            conn,
            local_operator("test"),
            PlanRequest(radius_m=500.0, budget=5, time_limit_s=20.0),
        )
    assert plan["status"] == "optimal"
    assert set(plan) == set(expected)
    assert {k: v for k, v in plan.items() if k not in TIMINGS} == {
        k: v for k, v in expected.items() if k not in TIMINGS
    }
    assert len(plan["selected"]) == 5
    assert 0 < plan["covered_pct"] <= 100


def test_propose_with_a_staff_budget_and_kept_posts(town: PlanTown) -> None:
    body = {
        "staff_budget": 240,
        "shifts": 3,
        "staff_per_shift": 2,
        "radius_m": 400.0,
        "keep_existing": True,
        "network": False,
        "time_limit_s": 10,
    }
    plan = _post(town, "/api/v1/plan/checkpoints", body).get_json()
    assert plan["staff"] <= 240
    assert plan["posts"] == len(plan["selected"]) <= 40
    kept = [s for s in plan["selected"] if s["kept"]]
    assert kept
    assert all(s["kind"] == "checkpoint" for s in kept)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"budget": 5}, "radius_m"),
        ({"budget": -1, "radius_m": 500}, "budget"),
        ({"budget": "five", "radius_m": 500}, "budget: a whole number"),
        ({"budget": 5, "radius_m": 0}, "radius_m"),
        ({"budget": 5, "radius_m": 1e9}, "radius_m"),
        ({"budget": True, "radius_m": 500}, "budget: a whole number"),
        ({"radius_m": 500}, "budget"),
        ({"budget": 5, "radius_m": 500, "keep_existing": "yes"}, "keep_existing"),
        ({"budget": 5, "radius_m": 500, "time_limit_s": 3600}, "time_limit_s"),
        ({"budget": 5, "radius_m": 500, "colour": "red"}, "unknown fields: colour"),
        ({"budget": 5, "radius_m": 500, "shifts": 0}, "shifts"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_proposals_are_400_with_a_message(town: PlanTown, body: object, message: str) -> None:
    response = _post(town, "/api/v1/plan/checkpoints", body)
    assert response.status_code == 400
    assert message in response.get_json()["message"]


def test_an_impossible_plan_is_400(town: PlanTown) -> None:
    body = {"budget": 1, "radius_m": 500, "keep_existing": True}
    response = _post(town, "/api/v1/plan/checkpoints", body)
    assert response.status_code == 400
    assert "budget" in response.get_json()["message"]


def test_not_json_is_400(town: PlanTown) -> None:
    response = town.app.test_client().post(
        "/api/v1/plan/checkpoints",
        data="budget=5",
        headers={**_bearer(town, "planner"), "Content-Type": "text/plain"},
    )
    assert response.status_code == 400
    assert "JSON object" in response.get_json()["message"]


def test_score_of_the_current_checkpoints_and_of_given_sites(town: PlanTown) -> None:
    now = _post(town, "/api/v1/plan/score", {"radius_m": 500}).get_json()
    assert now["sites"]
    assert all(s["kind"] == "checkpoint" for s in now["sites"])
    assert 0 < now["covered_pct"] <= 100
    one = now["sites"][0]
    alone = _post(town, "/api/v1/plan/score", {"radius_m": 500, "sites": [one]}).get_json()
    assert alone["covered_weight"] == pytest.approx(one["reached_weight"])
    assert alone["covered_weight"] <= now["covered_weight"]
    none = _post(town, "/api/v1/plan/score", {"radius_m": 500, "sites": []}).get_json()
    assert none["covered_weight"] == 0
    bad = _post(town, "/api/v1/plan/score", {"sites": [{"lon": 200, "lat": 30}]})
    assert bad.status_code == 400
    assert "longitude" in bad.get_json()["message"]


# -- who may plan --------------------------------------------------------------------------

ENDPOINTS = [
    ("post", "/api/v1/plan/checkpoints", {"budget": 5, "radius_m": 500}),
    ("post", "/api/v1/plan/checkpoints/apply", {"site_ids": []}),
    ("post", "/api/v1/plan/score", {"radius_m": 500}),
    ("get", "/api/v1/plan/seals", None),
    ("post", "/api/v1/plan/seals/apply", {"all": True}),
    ("get", "/plan", None),
]


@pytest.mark.parametrize("role", ["grid_worker", "analyst"])
@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
def test_only_planners_may_plan(
    town: PlanTown, role: str, method: str, url: str, body: object
) -> None:
    client = town.app.test_client()
    response = getattr(client, method)(url, json=body, headers=_bearer(town, role))
    assert response.status_code == 403


def test_no_token_no_plan(town: PlanTown) -> None:
    assert town.app.test_client().get("/api/v1/plan/seals").status_code == 401


def _csrf_token(client: FlaskClient) -> str:
    found = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    )
    assert found
    return found.group(1)


def test_a_session_post_needs_the_csrf_token(town: PlanTown) -> None:
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
    body = {"budget": 3, "radius_m": 500}
    refused = client.post("/api/v1/plan/checkpoints", json=body)
    assert refused.status_code == 400
    assert "CSRF" in refused.get_json()["message"]
    ok = client.post(
        "/api/v1/plan/checkpoints", json=body, headers={"X-CSRFToken": _csrf_token(client)}
    )
    assert ok.status_code == 200
    assert len(ok.get_json()["selected"]) == 3


# -- applying ------------------------------------------------------------------------------


def test_apply_site_ids_writes_checkpoints_and_an_audit_event(town: PlanTown) -> None:
    plan = _post(town, "/api/v1/plan/checkpoints", {"budget": 4, "radius_m": 500}).get_json()
    new_sites = [s for s in plan["selected"] if s["kind"] != "checkpoint"]
    gates = [s for s in new_sites if s["kind"].endswith("_entrance")]
    body = {"site_ids": [s["id"] for s in new_sites], "radius_m": 500, "staff_per_shift": 3}
    response = _post(town, "/api/v1/plan/checkpoints/apply", body)
    assert response.status_code == 200, response.get_data(as_text=True)
    created = response.get_json()["applied"]
    assert len(created) == len(new_sites) > 0
    rows = _rows(
        town,
        "SELECT state, staff_per_shift, radius_m FROM checkpoints WHERE id = ANY(:ids)",
        ids=created,
    )
    assert len(rows) == len(created)
    assert {(r[0], r[1], float(r[2])) for r in rows} == {("active", 3, 500.0)}
    audit = _rows(
        town,
        "SELECT actor, object_ids, row_count FROM audit_events"
        " WHERE action = 'plan_checkpoints' ORDER BY id DESC LIMIT 1",
    )
    assert audit[0][0] == "plan-planner"
    assert sorted(audit[0][1]) == sorted(created)
    if gates:
        states = _rows(
            town,
            "SELECT e.state, ev.user_name FROM entrances e"
            " JOIN entrance_events ev ON ev.entrance_id = e.id AND ev.to_state = 'checkpoint'"
            " WHERE e.source_id = ANY(:s)",
            s=[g["id"] for g in gates],
        )
        assert states
        assert all(r == ("checkpoint", "plan-planner") for r in states)
    # Those sites are checkpoints now, no longer candidates; as a proposal, nothing new.
    again = _post(town, "/api/v1/plan/checkpoints/apply", body)
    assert again.status_code == 400
    assert "not candidate sites" in again.get_json()["message"]
    proposal = {"selected": new_sites, "radius_m": 500}
    assert _post(town, "/api/v1/plan/checkpoints/apply", proposal).get_json()["applied"] == []


def test_apply_a_proposal_body(town: PlanTown) -> None:
    proposal = {
        "radius_m": 300,
        "selected": [{"id": "api-test-site", "kind": "site", "lon": 0.0, "lat": 0.0}],
    }
    with town.db.owner.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM villages LIMIT 1) v"
            )
        ).one()
    proposal["selected"] = [{"id": "api-test-site", "kind": "site", "lon": lon, "lat": lat}]
    response = _post(town, "/api/v1/plan/checkpoints/apply", proposal)
    assert response.status_code == 200
    (created,) = response.get_json()["applied"]
    row = _rows(
        town, "SELECT source_id, kind, village_id FROM checkpoints WHERE id = :i", i=created
    )[0]
    assert row[0] == "plan:api-test-site"
    assert row[1] == "monitoring_point"
    assert row[2] is not None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "either site_ids"),
        ({"site_ids": ["x"], "selected": []}, "either site_ids"),
        ({"site_ids": ["no-such-site"]}, "not candidate sites"),
        ({"site_ids": "abc"}, "site_ids"),
        ({"selected": [{"lon": "a", "lat": 1}]}, "site 1: lon and lat"),
        ({"selected": [{"lon": 1, "lat": 1, "kind": "tank"}]}, "site 1: kind"),
        ({"selected": [{"lon": 1, "lat": 1, "id": "x" * 200}]}, "site 1: id"),
        ({"selected": [{"lon": 1, "lat": 1}], "staff_per_shift": 0}, "staff_per_shift"),
    ],
)
def test_bad_applies_are_400(town: PlanTown, body: object, message: str) -> None:
    response = _post(town, "/api/v1/plan/checkpoints/apply", body)
    assert response.status_code == 400
    assert message in response.get_json()["message"]


def test_seal_plan_and_applying_it(town: PlanTown) -> None:
    client = town.app.test_client()
    listed = client.get("/api/v1/plan/seals", headers=_bearer(town, "planner"))
    assert listed.status_code == 200
    plans = listed.get_json()["plans"]
    assert plans
    # Households are read under the caller's row security, as the CLI (owner) reads them.
    with town.db.owner.begin() as conn:
        expected = seal_plan_for(conn, local_operator("test"))
    assert plans == expected
    assert any(p["households"] > 0 for p in plans)
    target = next(p for p in plans if p["changes"] > 0)
    one = client.get(
        f"/api/v1/plan/seals?compound={target['compound_id']}", headers=_bearer(town, "planner")
    ).get_json()["plans"]
    assert [p["compound_id"] for p in one] == [target["compound_id"]]
    assert (
        client.get("/api/v1/plan/seals?compound=abc", headers=_bearer(town, "planner")).status_code
        == 400
    )
    response = _post(town, "/api/v1/plan/seals/apply", {"compound_ids": [target["compound_id"]]})
    assert response.status_code == 200, response.get_data(as_text=True)
    applied = response.get_json()["applied"]
    assert applied["compounds"] == 1
    assert applied["opened"] + applied["sealed"] == target["changes"]
    sealed_ids = [s["id"] for s in target["seal"]]
    states = dict(_rows(town, "SELECT id, state FROM entrances WHERE id = ANY(:i)", i=sealed_ids))
    assert set(states.values()) == {"sealed"}
    events = _rows(
        town,
        "SELECT count(*) FROM entrance_events WHERE user_name = 'plan-planner'"
        " AND entrance_id = ANY(:i)",
        i=[*sealed_ids, target["keep"]["id"]],
    )
    assert events[0][0] == target["changes"]
    audit = _rows(
        town,
        "SELECT row_count, detail FROM audit_events WHERE action = 'plan_seals'"
        " ORDER BY id DESC LIMIT 1",
    )
    assert audit[0][0] == target["changes"]
    assert audit[0][1]["compounds"] == 1
    after = client.get(
        f"/api/v1/plan/seals?compound={target['compound_id']}", headers=_bearer(town, "planner")
    ).get_json()["plans"]
    assert after == [] or after[0]["changes"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "compound_ids"),
        ({"compound_ids": [1], "all": True}, "compound_ids"),
        ({"compound_ids": ["1"]}, "compound_ids"),
        ({"compound_ids": [-5]}, "no seal plan"),
    ],
)
def test_bad_seal_applies_are_400(town: PlanTown, body: object, message: str) -> None:
    response = _post(town, "/api/v1/plan/seals/apply", body)
    assert response.status_code == 400
    assert message in response.get_json()["message"]


@pytest.mark.parametrize(
    ("site_id", "reason"),
    [
        ("<b>x</b><img src=/x onerror=alert(1)>", "holds < >"),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example/">', 'holds < > "'),
        ("O'Brien gate", "holds '"),
        ("line\nbreak", "control"),
        ("nul\x00byte", "control"),
        ("zero\u200bwidth", "unprintable"),
    ],
)
def test_apply_refuses_an_id_that_is_not_text(town: PlanTown, site_id: str, reason: str) -> None:
    """Nothing written: the good site before the bad one is not applied either."""
    with town.db.owner.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM villages LIMIT 1) v"
            )
        ).one()
    count = "SELECT count(*) FROM checkpoints"
    before = _rows(town, count)[0][0]
    selected = [
        {"id": "api-fine-site", "kind": "site", "lon": lon, "lat": lat},
        {"id": site_id, "kind": "site", "lon": lon, "lat": lat},
    ]
    response = _post(town, "/api/v1/plan/checkpoints/apply", {"selected": selected})
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert message.startswith("site 2: id holds "), message
    assert reason in message
    assert site_id not in message
    assert _rows(town, count)[0][0] == before
