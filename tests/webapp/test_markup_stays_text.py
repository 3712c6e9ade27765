"""Text stays text in headless Chromium: markup in names, and in ids and codes written past the
rule (straight into the database, as older data or another program might), never becomes an
element on /plan or the map, and never navigates the viewer away."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import text

from geodata.identifiers import identifier_problem
from tests import conftest
from tests.browser import PageVisit, recorded_page, sign_in
from tests.live_server import serving
from tests.webapp.map.test_browser import tooltip_after_hovering, visit
from tests.webapp.small_town_data import PREFIX, insert_test_town
from webapp import create_app

BOLD_ID = "<b>x</b><img src=/x onerror=alert(1)>"
META_ID = '<meta http-equiv="refresh" content="0;url=/healthz">'
VILLAGE_CODE = "<b>v</b><img src=/x>"
GRID_CODE = "<img src=/x onerror=alert(3)>"
NAME = '<b>n</b><img src=/x onerror=alert(4)><meta http-equiv="refresh" content="0;url=/healthz">'
MARKUP_ELEMENTS = (
    'img[src="/x"], meta[http-equiv="refresh" i], .leaflet-tooltip b, .leaflet-tooltip img, '
    ".leaflet-tooltip meta, .leaflet-popup b, .leaflet-popup img, .leaflet-popup meta, "
    "#seal-list b, #seal-list img"
)
SHARE = re.compile(r"^\d+\.\d %")


@dataclass(frozen=True)
class HostileTown:
    app: Flask
    planner: conftest.Account
    commander: conftest.Account


@pytest.fixture(scope="module")
def hostile(throwaway_db: conftest.TestDatabase) -> HostileTown:
    """The webapp tests' small town, committed, with markup in names, ids and codes."""
    with throwaway_db.owner.begin() as conn:
        town = insert_test_town(conn)
        conn.execute(
            text(
                "UPDATE checkpoints SET state = 'active', name = :name,"
                " source_id = :prefix || CASE WHEN kind = 'village_gate' THEN :bold ELSE :meta END"
                " WHERE source_id LIKE :prefix || '%'"
            ),
            {"name": NAME, "prefix": PREFIX, "bold": BOLD_ID, "meta": META_ID},
        )
        conn.execute(
            text(
                "UPDATE entrances SET name = :name, source_id = :prefix || :meta || id"
                " WHERE source_id LIKE :prefix || '%'"
            ),
            {"name": NAME, "prefix": PREFIX, "meta": META_ID},
        )
        conn.execute(
            text("UPDATE villages SET code = :code WHERE id = :id"),
            {"code": VILLAGE_CODE, "id": town.village_b},
        )
        conn.execute(
            text("UPDATE grids SET code = :code, name = :name WHERE id = :id"),
            {"code": GRID_CODE, "name": NAME, "id": town.grid_ids[0]},
        )
        conn.execute(
            text("UPDATE compounds SET name = :name WHERE source_id LIKE :prefix || '%'"),
            {"name": NAME, "prefix": PREFIX},
        )
    planner = conftest.make_account(throwaway_db, "markup-planner", "planner")
    commander = conftest.make_account(throwaway_db, "markup-commander", "commander")
    return HostileTown(
        create_app(throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner),
        planner,
        commander,
    )


def test_the_values_planted_break_the_rule() -> None:
    for value in (BOLD_ID, META_ID, VILLAGE_CODE, GRID_CODE):
        assert identifier_problem(value) is not None


def assert_nothing_became_markup(page: Page, record: PageVisit, path: str) -> None:
    found = page.locator(MARKUP_ELEMENTS)
    assert found.count() == 0, [
        found.nth(i).evaluate("e => e.outerHTML") for i in range(found.count())
    ]
    assert page.url == record.base + path  # a <meta http-equiv=refresh> would have moved it
    fetched = {url.removeprefix(record.base).split("?")[0] for url in record.requests}
    assert "/x" not in fetched  # an <img src=/x> would have asked for it
    assert "/healthz" not in fetched
    assert record.dialogs == []
    assert record.page_errors == []


def _tooltips(page: Page, selector: str) -> list[str]:
    return [
        tooltip_after_hovering(page, selector, i) for i in range(page.locator(selector).count())
    ]


def test_plan_page_shows_ids_and_names_as_text(hostile: HostileTown) -> None:
    with serving(hostile.app) as base, recorded_page(base) as (page, record):
        sign_in(page, f"{base}/plan", hostile.planner)
        page.wait_for_url(re.compile(r"/plan$"))
        expect(page.locator("#share-current")).to_have_text(SHARE, timeout=30_000)
        expect(page.locator(".plan-post-current")).to_have_count(2)
        current = _tooltips(page, ".plan-post-current")
        assert sorted(current) == sorted([PREFIX + BOLD_ID, PREFIX + META_ID])

        page.check("#plan-keep")
        page.click("#plan-propose")
        expect(page.locator("#share-proposal")).to_have_text(SHARE, timeout=30_000)
        proposed = _tooltips(page, ".plan-post-proposal")
        assert PREFIX + BOLD_ID in proposed
        assert PREFIX + META_ID in proposed
        page.wait_for_selector(".seal-table")
        assert META_ID in page.locator("#seal-list").inner_text()
        assert_nothing_became_markup(page, record, "/plan")


def test_map_shows_codes_and_names_as_text(hostile: HostileTown) -> None:
    with serving(hostile.app) as base, visit(base, hostile.commander) as (page, record):
        villages = [
            tooltip_after_hovering(
                page,
                ".leaflet-town-villages-pane path.leaflet-interactive",
                i,
                position={"x": 12, "y": 12},  # near a corner: grids lie over the middle
            )
            for i in range(2)
        ]
        assert any(VILLAGE_CODE in t for t in villages), villages
        grids = _tooltips(page, ".leaflet-town-grids-pane path.leaflet-interactive")
        assert any(GRID_CODE in t and NAME in t for t in grids), grids
        checkpoints = _tooltips(page, ".checkpoint-marker")
        assert any(NAME in t for t in checkpoints), checkpoints
        page.fill(".search-control input", "<b>")
        expect(page.locator(".search-results button").first).to_be_visible()
        assert "<b>" in page.locator(".search-results").inner_text()
        assert_nothing_became_markup(page, record, "/")
