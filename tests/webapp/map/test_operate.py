"""The command post on the map, in headless Chromium: a commander seals an entrance from its
popup, and the coverage inputs as of one minute later have it sealed. A planner sees no
buttons. Screenshot: screenshots/commander-operate.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from geodata.records.coverage_inputs import fetch_inputs
from tests import conftest
from tests.live_server import serving
from tests.paths import SCREENSHOTS
from tests.webapp.map.commander_town import until
from tests.webapp.map.test_browser import visit
from tests.webapp.small_town_data import PREFIX, insert_test_town
from webapp import create_app

STAFF = f"{PREFIX}staff/leader"


@pytest.fixture(scope="module")
def app(throwaway_db: conftest.TestDatabase) -> Flask:
    with throwaway_db.owner.begin() as conn:
        insert_test_town(conn)
    return create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )


def _open_entrance(db: conftest.TestDatabase) -> int:
    with db.owner.connect() as conn:
        return int(
            conn.execute(
                text("SELECT id FROM entrances WHERE state = 'open' ORDER BY id LIMIT 1")
            ).scalar_one()
        )


def test_a_commander_seals_an_entrance_from_the_map(
    app: Flask, throwaway_db: conftest.TestDatabase
) -> None:
    account = conftest.make_account(throwaway_db, "operate-commander", "commander")
    entrance = _open_entrance(throwaway_db)
    with serving(app) as base, visit(base, account) as (page, record):
        sealed = page.locator(".entrance-marker.entrance-sealed").count()
        page.locator(".entrance-marker.entrance-open").first.click(force=True)
        popup = page.locator(".operate-popup")
        popup.wait_for(state="visible", timeout=5000)
        until(page, "document.querySelector('.operate-state').textContent.includes('version')")
        popup.locator(".operate-to-sealed").click()
        popup.locator("input[name=reason]").fill("a case in the compound")
        popup.locator("input[name=responsible]").fill(STAFF)
        with page.expect_response(
            lambda r: f"/api/v1/entrances/{entrance}" in r.url and r.request.method == "PATCH"
        ) as answer:
            popup.locator(".operate-send").click()
        assert answer.value.status == 200
        page.wait_for_function("document.querySelector('.operate-outcome').textContent.length > 0")
        assert popup.locator(".operate-outcome").inner_text() == "Done."
        until(
            page,
            "document.querySelectorAll('.entrance-marker.entrance-sealed').length"
            f" === {sealed + 1}",
        )
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "commander-operate.png"))
        record.assert_clean()
    with throwaway_db.owner.connect() as conn:
        later = fetch_inputs(conn, as_of=datetime.now(UTC) + timedelta(minutes=1))
        earlier = fetch_inputs(conn, as_of=datetime.now(UTC) - timedelta(hours=1))
    states = dict(zip(later.entrances["id"], later.entrances["state"], strict=True))
    assert states[entrance] == "sealed"
    before = dict(zip(earlier.entrances["id"], earlier.entrances["state"], strict=True))
    assert before[entrance] == "open"


def test_a_planner_sees_no_buttons(app: Flask, throwaway_db: conftest.TestDatabase) -> None:
    account = conftest.make_account(throwaway_db, "operate-planner", "planner")
    with serving(app) as base, visit(base, account) as (page, _):
        page.locator(".entrance-marker").first.click(force=True)
        page.wait_for_timeout(300)
        assert page.locator(".operate-popup").count() == 0
