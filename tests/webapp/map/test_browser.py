"""The map page in headless Chromium, served by waitress: local requests only, a drawn town.

Playwright drives the system browser (/usr/bin/chromium); it never downloads one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page

from tests import conftest
from tests.browser import PageVisit, recorded_page, sign_in
from tests.live_server import serving
from tests.paths import SCREENSHOTS
from tests.webapp.small_town_data import XSS_CHECKPOINT, XSS_VILLAGE, insert_test_town
from webapp import create_app
from webapp.map.style import ENTRANCE_COLOURS, LAYER_TITLES, LEGEND, TOWN_LAYERS

SHOWCASE = SCREENSHOTS / "map.png"


@contextmanager
def visit(base: str, account: conftest.Account) -> Iterator[tuple[Page, PageVisit]]:
    """Open the map page in headless Chromium and wait until every layer has been fetched."""
    with recorded_page(base) as (page, record):
        with page.expect_response(lambda r: "/api/layers/checkpoints.geojson" in r.url):
            sign_in(page, base + "/", account)
        page.wait_for_load_state("networkidle")
        page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length > 0")
        yield page, record


MAP_ZOOM = """() => {
  for (const key of Object.keys(window)) {
    if (key.startsWith("map_") && window[key] instanceof L.Map) return window[key].getZoom();
  }
  return null;
}"""


def assert_stayed_local(record: PageVisit, page: Page) -> None:
    """Only this app's URLs, and every layer shown at the map's zoom fetched: a layer with a
    least zoom above it is not (the map stays where it was fitted, zoomed in by nothing)."""
    record.assert_clean()
    fetched = {url.removeprefix(record.base).split("?")[0] for url in record.requests}
    zoom = page.evaluate(MAP_ZOOM)
    assert isinstance(zoom, int | float)
    for layer in TOWN_LAYERS:
        url = f"/api/layers/{layer.source}.geojson"
        if layer.show and (layer.min_zoom is None or zoom >= layer.min_zoom):
            assert url in fetched
        elif layer.min_zoom is not None and zoom < layer.min_zoom:
            assert url not in fetched


def save_screenshot(page: Page, tmp_path: Path) -> Path:
    shot = tmp_path / "map.png"
    page.screenshot(path=str(shot), full_page=True)
    SHOWCASE.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, SHOWCASE)
    return shot


def tooltip_after_hovering(
    page: Page, selector: str, index: int, *, position: dict[str, float] | None = None
) -> str:
    """Hover the element (at `position` in its box, else its centre) and read its tooltip."""
    page.mouse.move(0, 0)
    if position is None:
        page.locator(selector).nth(index).hover(force=True)
    else:
        page.locator(selector).nth(index).hover(force=True, position=position)  # type: ignore[arg-type]
    tooltip = page.locator(".leaflet-tooltip").last
    tooltip.wait_for(state="visible", timeout=5000)
    return tooltip.inner_text()


@pytest.fixture(scope="module")
def viewer(throwaway_db: conftest.TestDatabase) -> conftest.Account:
    return conftest.make_account(throwaway_db, "browser-viewer", "commander")


@pytest.fixture(scope="module")
def small_town_app(throwaway_db: conftest.TestDatabase) -> Flask:
    with throwaway_db.owner.begin() as conn:
        insert_test_town(conn)
    return create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )


def test_map_draws_the_town_from_local_requests_only(
    small_town_app: Flask, viewer: conftest.Account, tmp_path: Path
) -> None:
    with serving(small_town_app) as base, visit(base, viewer) as (page, record):
        assert_stayed_local(record, page)
        villages = page.locator(".leaflet-town-villages-pane path.leaflet-interactive")
        grids = page.locator(".leaflet-town-grids-pane path.leaflet-interactive")
        entrances = page.locator(".leaflet-town-entrances-pane .entrance-marker")
        assert villages.count() == 2
        assert grids.count() == 2
        assert entrances.count() == 3
        assert page.locator(".leaflet-town-roads-pane path").count() == 1
        assert page.locator(".checkpoint-marker").count() == 2
        fills = {
            entrances.nth(i).locator("svg > :first-child").get_attribute("fill") for i in range(3)
        }
        assert fills == set(ENTRANCE_COLOURS.values())
        shapes = page.locator(".checkpoint-marker .checkpoint-shape")
        colours = {shapes.nth(i).evaluate("e => e.style.backgroundColor") for i in range(2)}
        assert len(colours) == 2  # active and closed differ

        overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert [o.strip() for o in overlays] == [
            LAYER_TITLES[n]
            for n in (
                "villages",
                "grids",
                "compounds",
                "patrol_zones",
                "patrol_routes",
                "roads",
                "buildings",
                "households",
                "entrances",
                "checkpoints",
                "isolation_sites",
                "enterprises",
                "publicity_points",
                "disinfection_places",
                "supply_holders",
                "leaks",
            )
        ]
        legend = page.locator(".map-legend li")
        assert legend.count() == len(LEGEND)
        assert page.locator(".map-legend").is_visible()
        assert (
            "© OpenStreetMap contributors"
            in page.locator(".leaflet-control-attribution").inner_text()
        )
        assert page.locator("#map-status").is_hidden()

        # A grid under the point panes still answers the pointer.
        assert "Grid" in tooltip_after_hovering(
            page, ".leaflet-town-grids-pane path.leaflet-interactive", 0
        )
        save_screenshot(page, tmp_path)
        assert (tmp_path / "map.png").stat().st_size > 10_000


def test_names_in_tooltips_render_as_text(small_town_app: Flask, viewer: conftest.Account) -> None:
    with serving(small_town_app) as base, visit(base, viewer) as (page, record):
        checkpoint_texts = [
            tooltip_after_hovering(page, ".checkpoint-marker", i)
            for i in range(page.locator(".checkpoint-marker").count())
        ]
        assert any(XSS_CHECKPOINT in text for text in checkpoint_texts), checkpoint_texts
        village_texts = [
            # Near a corner: grids and compounds lie over the villages' middles.
            tooltip_after_hovering(
                page,
                ".leaflet-town-villages-pane path.leaflet-interactive",
                i,
                position={"x": 12, "y": 12},
            )
            for i in range(2)
        ]
        assert any(XSS_VILLAGE in text for text in village_texts), village_texts
        assert page.locator(".leaflet-tooltip img, .leaflet-tooltip script").count() == 0
        assert page.locator("img[src='x']").count() == 0
        assert record.dialogs == []
        assert record.console == []
        assert record.page_errors == []


def test_sample_town_map(throwaway_sample_db: conftest.TestDatabase, tmp_path: Path) -> None:
    database = throwaway_sample_db
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    _check_sample_map(app, conftest.make_account(database, "sample-viewer", "commander"), tmp_path)


def _check_sample_map(app: Flask, account: conftest.Account, tmp_path: Path) -> None:
    with serving(app) as base, visit(base, account) as (page, record):
        assert_stayed_local(record, page)
        # The whole town, fitted below zoom 14: adding the building tiles (shown from 14 on)
        # must not zoom the map in to their least zoom (Leaflet does, unless the map has one).
        assert page.evaluate(MAP_ZOOM) < 14
        assert page.locator(".leaflet-town-villages-pane path.leaflet-interactive").count() > 0
        assert page.locator(".leaflet-town-grids-pane path.leaflet-interactive").count() > 0
        assert page.locator(".checkpoint-marker").count() > 0
        save_screenshot(page, tmp_path)
        # Entrances are drawn from zoom 14 on: zoomed in, they are fetched and drawn.
        page.evaluate(MAP_ZOOM.replace("return window[key].getZoom()", "window[key].setZoom(15)"))
        page.wait_for_selector(".leaflet-town-entrances-pane .entrance-marker")
