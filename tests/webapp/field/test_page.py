"""The field app's page, list, manifest and service worker over HTTP: who may open them,
addresses people use (never a source id), the app's own assets."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import conftest
from webapp import create_app


@pytest.fixture(scope="module")
def field(throwaway_sample_db: conftest.TestDatabase) -> tuple[Flask, dict[str, conftest.Account]]:
    database = throwaway_sample_db
    my_grid, _ = conftest.two_settled_grids(database)
    with database.owner.begin() as conn:  # someone of the grid in home quarantine today
        conn.execute(
            text(
                "INSERT INTO quarantines (resident_id, grid_id, type, reason, starts_at, ends_at)"
                " SELECT r.id, h.grid_id, 'home', 'fever', now() - interval '1 day',"
                " now() + interval '13 days' FROM residents r JOIN households h"
                " ON h.id = r.household_id JOIN grids g ON g.id = h.grid_id WHERE g.code = :g"
                " AND NOT EXISTS (SELECT 1 FROM quarantines x WHERE x.resident_id = r.id"
                " AND x.status = 'active') ORDER BY r.id LIMIT 1"
            ),
            {"g": my_grid},
        )
    accounts = {
        "worker": conftest.make_account(
            database, "field-worker", "grid_worker", grid_codes=(my_grid,)
        ),
        "planner": conftest.make_account(database, "field-planner", "planner"),
    }
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return app, accounts


def _as(field: tuple[Flask, dict[str, conftest.Account]], who: str) -> FlaskClient:
    app, accounts = field
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {accounts[who].token}"
    return client


def test_the_page_is_for_grid_workers(field: tuple[Flask, dict[str, conftest.Account]]) -> None:
    page = _as(field, "worker").get("/field/", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="pending-count"' in html
    assert 'data-user="field-worker"' in html
    assert '<html lang="zh-CN">' in html
    assert "manifest-src 'self'" in page.headers["Content-Security-Policy"]
    english = _as(field, "worker").get("/field/", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert _as(field, "planner").get("/field/").status_code == 403
    assert _as(field, "planner").get("/api/v1/field/today").status_code == 403
    anonymous = field[0].test_client()
    assert anonymous.get("/field/").status_code == 302
    assert anonymous.get("/api/v1/field/today").status_code == 401


def test_the_list_names_addresses_and_people_in_quarantine(
    field: tuple[Flask, dict[str, conftest.Account]],
) -> None:
    answer = _as(field, "worker").get("/api/v1/field/today")
    assert answer.status_code == 200
    day = answer.get_json()
    assert day["user"] == "field-worker"
    assert [w["label"] for w in day["windows"]] == ["07:00-12:00", "14:00-20:00"]
    households = day["households"]
    assert households
    addresses = [h["address"] for h in households]
    assert all(a["village"] for a in addresses)
    assert all(a["building"] or a["building_number"] for a in addresses)
    shown = " ".join(str(v) for a in addresses for v in a.values() if v is not None)
    assert not re.search(r"osm:|sample:|/\d", shown), shown
    people = [p for h in households for p in h["people"]]
    assert people, "someone in home quarantine is listed with their household"
    assert all("*" in (p["name"] or "*") for p in people)  # names masked
    living = [p for h in households for p in h["residents"]]
    assert living
    assert all("*" in (p["name"] or "*") for p in living)
    assert {p["resident"] for p in people} <= {p["resident"] for p in living if p["in_quarantine"]}


def test_manifest_service_worker_and_assets_are_served(
    field: tuple[Flask, dict[str, conftest.Account]],
) -> None:
    client = field[0].test_client()
    manifest = client.get("/field/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json(force=True)
    assert (body["start_url"], body["scope"], body["display"]) == (
        "/field/",
        "/field/",
        "standalone",
    )
    for icon in body["icons"]:
        with client.get(icon["src"]) as response:
            assert response.status_code == 200
    worker = client.get("/field/sw.js")
    assert worker.status_code == 200
    assert worker.mimetype in ("text/javascript", "application/javascript")
    assert worker.headers["Service-Worker-Allowed"] == "/field/"
    shell = worker.get_data(as_text=True)
    for asset in re.findall(r"'(/static/field/[^']+)'", shell):
        with client.get(asset) as response:
            assert response.status_code == 200, asset
    session = _as(field, "worker").get("/api/v1/field/session").get_json()
    assert session["user"] == "field-worker"
    assert session["csrf_token"]
