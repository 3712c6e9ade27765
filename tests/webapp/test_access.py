"""Accounts on the web: login, sessions, CSRF, roles × endpoints, IDOR probes, audit."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import conftest
from webapp import create_app
from webapp.infra.policy import policy_of
from webapp.infra.sessions import COOKIE


@dataclass(frozen=True)
class Town:
    app: Flask
    db: conftest.TestDatabase
    accounts: dict[str, conftest.Account]
    my_grid: str
    other_grid: str
    my_household: int
    other_household: int
    my_resident: int
    my_id_number: str


def _household_in(db: conftest.TestDatabase, grid: str) -> tuple[int, int, str]:
    with db.owner.connect() as conn:
        row = conn.execute(
            text(
                "SELECT h.id, r.id, r.id_number FROM households h "
                "JOIN grids g ON g.id = h.grid_id JOIN residents r ON r.household_id = h.id "
                "WHERE g.code = :g AND r.id_number IS NOT NULL ORDER BY h.id, r.id LIMIT 1"
            ),
            {"g": grid},
        ).one()
    return int(row[0]), int(row[1]), str(row[2])


@pytest.fixture(scope="module")
def town(throwaway_sample_db: conftest.TestDatabase) -> Town:
    """The sample town in the module's own database, an account per role and the app."""
    database = throwaway_sample_db
    my_grid, other_grid = conftest.two_settled_grids(database)
    roles = {
        "admin": conftest.make_account(database, "t-admin", "admin"),
        "commander": conftest.make_account(database, "t-commander", "commander"),
        "planner": conftest.make_account(database, "t-planner", "planner"),
        "analyst": conftest.make_account(database, "t-analyst", "analyst"),
        "grid_worker": conftest.make_account(
            database, "t-worker", "grid_worker", grid_codes=(my_grid,)
        ),
    }
    mine, my_resident, my_id = _household_in(database, my_grid)
    theirs, _, _ = _household_in(database, other_grid)
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return Town(app, database, roles, my_grid, other_grid, mine, theirs, my_resident, my_id)


def csrf_token(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def login(town: Town, role: str) -> FlaskClient:
    client = town.app.test_client()
    account = town.accounts[role]
    response = client.post(
        "/login",
        data={"username": account.username, "password": account.password,
              "csrf_token": csrf_token(client)},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def test_every_endpoint_has_a_policy(town: Town) -> None:
    missing = [
        rule.endpoint
        for rule in town.app.url_map.iter_rules()
        if policy_of(town.app, rule.endpoint) is None
    ]
    assert missing == []


def test_anonymous_visitor_is_sent_to_login(town: Town) -> None:
    client = town.app.test_client()
    page = client.get("/")
    assert page.status_code == 302
    assert page.location.startswith("/login")
    assert client.get("/api/layers/villages.geojson").status_code == 401
    assert client.get("/api/v1/households").status_code == 401
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_login_refuses_a_post_without_csrf(town: Town) -> None:
    account = town.accounts["commander"]
    response = town.app.test_client().post(
        "/login", data={"username": account.username, "password": account.password}
    )
    assert response.status_code == 400


def test_failed_login_is_generic(town: Town) -> None:
    client = town.app.test_client()
    wrong = client.post("/login", data={"username": "t-planner", "password": "nope nope nope",
                                        "csrf_token": csrf_token(client)})  # fmt: skip
    unknown = client.post("/login", data={"username": "nobody-at-all", "password": "x" * 14,
                                          "csrf_token": csrf_token(client)})  # fmt: skip
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password" in wrong.get_data(as_text=True)
    assert wrong.get_data(as_text=True).count("Wrong") == unknown.get_data(as_text=True).count(
        "Wrong"
    )


def test_login_sets_a_new_httponly_lax_session(town: Town) -> None:
    client = town.app.test_client()
    token = csrf_token(client)
    before = session_cookie(client)
    account = town.accounts["planner"]
    response = client.post(
        "/login",
        data={"username": account.username, "password": account.password, "csrf_token": token},
    )
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    after = session_cookie(client)
    assert after is not None
    assert after != before
    assert client.get("/").status_code == 200


def test_logout_then_replayed_cookie_is_refused(town: Town) -> None:
    client = login(town, "commander")
    old = session_cookie(client)
    assert old is not None
    token = csrf_token(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    thief = town.app.test_client()
    thief.set_cookie(COOKIE, old)
    assert thief.get("/").status_code == 302
    assert thief.get("/api/v1/households").status_code == 401


ALLOWED = {
    "/": {"admin", "commander", "planner", "analyst", "grid_worker"},
    "/api/layers/villages.geojson": {"admin", "commander", "planner", "analyst", "grid_worker"},
    "/households": {"admin", "commander", "grid_worker"},
    "/api/v1/households": {"admin", "commander", "grid_worker"},
    "/visits/today": {"admin", "commander", "grid_worker"},
    "/api/v1/visits/due": {"admin", "commander", "grid_worker"},
    "/admin/audit": {"admin"},
    "/api/v1/audit": {"admin"},
}


@pytest.mark.parametrize("role", ["admin", "commander", "planner", "analyst", "grid_worker"])
def test_roles_by_endpoint(town: Town, role: str) -> None:
    client = town.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {town.accounts[role].token}"
    for path, roles in ALLOWED.items():
        status = client.get(path).status_code
        assert status == (200 if role in roles else 403), (role, path, status)


def test_grid_worker_idor_by_id_and_by_filter(town: Town) -> None:
    client = login(town, "grid_worker")
    assert client.get(f"/api/v1/households/{town.my_household}").status_code == 200
    assert client.get(f"/api/v1/households/{town.other_household}").status_code == 404
    assert client.get(f"/households/{town.other_household}").status_code == 404
    assert client.get(f"/api/v1/households?grid={town.other_grid}").status_code == 404
    listed = client.get("/api/v1/households?limit=1000").get_json()["households"]
    assert listed
    assert {h["grid"] for h in listed} == {town.my_grid}


def test_reveal_needs_csrf_in_a_session_but_not_with_a_token(town: Town) -> None:
    client = login(town, "grid_worker")
    url = f"/api/v1/residents/{town.my_resident}/reveal"
    assert client.post(url, json={"field": "id_number"}).status_code == 400
    ok = client.post(url, json={"field": "id_number"}, headers={"X-CSRFToken": csrf_token(client)})
    assert ok.status_code == 200
    assert ok.get_json()["value"] == town.my_id_number
    by_token = town.app.test_client().post(
        url,
        json={"field": "phone"},
        headers={"Authorization": f"Bearer {town.accounts['grid_worker'].token}"},
    )
    assert by_token.status_code == 200
    planner = town.app.test_client().post(
        url, json={"field": "phone"},
        headers={"Authorization": f"Bearer {town.accounts['planner'].token}"},
    )  # fmt: skip
    assert planner.status_code == 403


def test_household_page_masks_and_audits(town: Town) -> None:
    client = login(town, "grid_worker")
    page = client.get(f"/households/{town.my_household}").get_data(as_text=True)
    assert town.my_id_number not in page
    assert town.my_id_number[-4:] in page  # masked form keeps the last four
    with town.db.owner.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, object_ids, audit_events::text FROM audit_events "
                "WHERE actor = 't-worker' ORDER BY id"
            )
        ).all()
    assert ("view", [town.my_household]) in [(r[0], r[1]) for r in rows]
    assert all(town.my_id_number not in r[2] for r in rows)


def test_disabled_user_loses_the_session(town: Town) -> None:
    account = conftest.make_account(town.db, "t-leaver", "analyst")
    client = town.app.test_client()
    client.post("/login", data={"username": account.username, "password": account.password,
                                "csrf_token": csrf_token(client)})  # fmt: skip
    assert client.get("/").status_code == 200
    with town.db.owner.begin() as conn:
        conn.execute(text("UPDATE users SET active = false WHERE username = 't-leaver'"))
    assert client.get("/").status_code == 302


def test_open_redirect_is_refused(town: Town) -> None:
    client = town.app.test_client()
    account = town.accounts["analyst"]
    response = client.post(
        "/login",
        data={"username": account.username, "password": account.password,
              "csrf_token": csrf_token(client), "next": "https://evil.example/"},
    )  # fmt: skip
    assert response.location == "/"


def test_login_rate_limit_trips(town: Town) -> None:
    client = town.app.test_client()
    token = csrf_token(client)
    statuses = [
        client.post(
            "/login",
            data={"username": "t-admin", "password": "wrong password!", "csrf_token": token},
        ).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429


def test_visits_due_today_are_in_scope_and_recording_is_idempotent(town: Town) -> None:
    worker = town.app.test_client()
    worker.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {town.accounts['grid_worker'].token}"
    due = worker.get("/api/v1/visits/due").get_json()["households"]
    assert {h["grid"] for h in due} <= {town.my_grid}
    url = f"/api/v1/households/{town.my_household}/visits"
    body = {"result": "seen_all", "fever_count": 0, "idempotency_key": "test-visit-0001"}
    first = worker.post(url, json=body)
    again = worker.post(url, json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.get_json() == again.get_json()
    other_body = worker.post(url, json={**body, "fever_count": 1})
    assert other_body.status_code == 409
    elsewhere = worker.post(f"/api/v1/households/{town.other_household}/visits", json=body)
    assert elsewhere.status_code in (404, 409)
    with town.db.owner.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM visits WHERE source_id LIKE '%test-visit-0001'")
        ).scalar_one()
    assert n == 1
    other = worker.post(
        f"/api/v1/households/{town.other_household}/visits",
        json={**body, "idempotency_key": "test-visit-0002"},
    )
    assert other.status_code == 404
    bad = worker.post(url, json={**body, "result": "maybe", "idempotency_key": "test-visit-3"})
    assert bad.status_code == 400
    planner = town.app.test_client().post(
        url, json=body, headers={"Authorization": f"Bearer {town.accounts['planner'].token}"}
    )
    assert planner.status_code == 403


def test_recording_a_visit_in_a_session_needs_csrf(town: Town) -> None:
    client = login(town, "grid_worker")
    url = f"/api/v1/households/{town.my_household}/visits"
    body = {"result": "partial", "fever_count": 1, "idempotency_key": "test-visit-csrf-1"}
    assert client.post(url, json=body).status_code == 400
    ok = client.post(url, json=body, headers={"X-CSRFToken": csrf_token(client)})
    assert ok.status_code == 201
    page = client.get("/visits/today")
    assert page.status_code == 200
    assert "今日走访" in page.get_data(as_text=True)


def test_a_hostile_name_renders_as_text(town: Town) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    with town.db.owner.begin() as conn:
        conn.execute(
            text("UPDATE residents SET name = :n WHERE id = :r"),
            {"n": hostile, "r": town.my_resident},
        )
    client = login(town, "grid_worker")
    page = client.get(f"/households/{town.my_household}").get_data(as_text=True)
    assert "<img" not in page
    assert "&lt;" in page
    revealed = client.post(
        f"/api/v1/residents/{town.my_resident}/reveal",
        json={"field": "name"},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert revealed.get_json()["value"] == hostile  # JSON; the page sets it as text
