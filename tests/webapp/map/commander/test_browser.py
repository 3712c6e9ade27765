"""The commanders' map in headless Chromium (/usr/bin/chromium through Playwright), signed
in through the login form; screenshots go to screenshots/commander-*.png."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests import conftest
from tests.live_server import serving
from tests.webapp.map.commander_town import client_for, screenshot, serve_town, until
from tests.webapp.map.test_browser import assert_stayed_local, tooltip_after_hovering, visit
from tests.webapp.small_town_data import XSS_CHECKPOINT
from webapp.map.style import TOWN_LAYERS


def test_commander_map_in_the_browser(
    app: Flask, accounts: dict[str, conftest.Account], tmp_path: Path
) -> None:
    with serving(app) as base, visit(base, accounts["commander"]) as (page, record):
        until(page, "document.documentElement.dataset.coverageLoaded === 'true'")
        page.wait_for_selector(
            ".leaflet-households-tiles-pane path, .leaflet-town-households-tiles-pane path"
        )
        assert_stayed_local(record, page)
        assert page.locator(".entrance-marker").count() == 3
        assert page.locator(".checkpoint-ring").count() == 1  # the active one; the closed has none
        assert page.locator(".village-label").count() == 2
        screenshot(page, "overview")

        # The XSS name stays text, in the tooltip and in the search results.
        texts = [
            tooltip_after_hovering(page, ".checkpoint-marker", i)
            for i in range(page.locator(".checkpoint-marker").count())
        ]
        assert any(XSS_CHECKPOINT in t for t in texts), texts
        page.fill(".search-control input", "<img")
        results = page.locator(".search-results button")
        assert results.count() == 1
        assert XSS_CHECKPOINT in results.first.inner_text()
        results.first.click()
        screenshot(page, "search")
        page.fill(".search-control input", "WT-A1")
        assert "WT-A1" in page.locator(".search-results").inner_text()
        page.fill(".search-control input", "")

        # Layers toggle: patrol zones and leaks on (fetched then), villages off.
        overlays = page.locator(".leaflet-control-layers-overlays label")
        with page.expect_response(lambda r: "/api/v1/coverage" in r.url and "list=1" in r.url):
            overlays.filter(has_text="Leaks").locator("input").check()
        with page.expect_response(lambda r: "/api/layers/patrol_zones.geojson" in r.url):
            overlays.filter(has_text="Patrol zones").locator("input").check()
        overlays.filter(has_text="Villages").locator("input").uncheck()
        assert page.locator(".leaflet-town-villages-pane path").count() == 0
        # Labels fade out (Leaflet removes them after 200 ms).
        until(page, "document.querySelectorAll('.village-label').length === 0")
        overlays.filter(has_text="Villages").locator("input").check()
        page.wait_for_selector(".leaflet-town-villages-pane path.leaflet-interactive")

        # Reach instead of screening, then a past day replayed.
        page.locator(".colour-by-control input[value=reach]").check()
        with page.expect_response(lambda r: "as_of=2026-01-31" in r.url and "entrances" in r.url):
            page.fill(".as-of-control input", "2026-01-31")
            page.locator(".as-of-control input").dispatch_event("change")
        until(page, "document.querySelectorAll('.entrance-marker').length === 0")
        screenshot(page, "replay")

        page.wait_for_load_state("networkidle")
        assert_stayed_local(record, page)
        assert page.locator("img[src='x']").count() == 0


def test_commander_map_in_chinese(app: Flask, accounts: dict[str, conftest.Account]) -> None:
    with serving(app) as base, visit(base, accounts["commander"]) as (page, record):
        page.goto(base + "/?lang=zh_CN", wait_until="networkidle")
        until(page, "document.documentElement.dataset.coverageLoaded === 'true'")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        overlays = page.locator(".leaflet-control-layers-overlays").inner_text()
        assert "网格" in overlays
        assert "卡点" in overlays
        assert "图例" in page.locator(".map-legend").inner_text()
        screenshot(page, "zh")
        assert_stayed_local(record, page)
        # The choice is kept in the session.
        page.goto(base + "/", wait_until="networkidle")
        assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_layer_show_defaults_match_the_fetches(
    app: Flask, accounts: dict[str, conftest.Account]
) -> None:
    """On load the page fetches exactly the layers shown by default; a hidden one waits until
    it is switched on."""
    shown = {layer.source for layer in TOWN_LAYERS if layer.show}
    assert {"villages", "grids", "checkpoints", "entrances", "compounds"} <= shown
    assert "patrol_zones" not in shown
    with serving(app) as base, visit(base, accounts["commander"]) as (page, record):
        page.wait_for_load_state("networkidle")
        paths = {url.removeprefix(base).split("?")[0] for url in record.requests}
        fetched = {
            p.removeprefix("/api/layers/").removesuffix(".geojson")
            for p in paths
            if p.startswith("/api/layers/")
        }
        assert fetched == shown
        checked = page.locator(".leaflet-control-layers-overlays input:checked")
        assert checked.count() == len(shown) + 2  # and the building and household tiles


def test_the_browser_language_decides_and_the_switch_is_kept(
    own_db: conftest.TestDatabase,
) -> None:
    served = serve_town(own_db)  # a town with English names: English by default
    client = client_for(served.app, served.accounts["commander"])
    asked = {"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"}

    def lang(headers: dict[str, str]) -> str:
        html = client.get("/", headers=headers).get_data(as_text=True)
        return html.split('<html lang="', 1)[1].split('"', 1)[0]

    assert lang(asked) == "zh-CN"
    assert lang({"Accept-Language": "fr, en-GB;q=0.8"}) == "en"
    assert lang({"Accept-Language": "fr"}) == "en"  # none spoken: the town's
    # a signed-in user's switch outlasts the browser's wish
    signed_in = served.app.test_client()
    signed_in.post(
        "/login",
        data={"username": served.accounts["commander"].username,
              "password": served.accounts["commander"].password,
              "csrf_token": _login_token(signed_in)},
    )  # fmt: skip
    signed_in.get("/?lang=en", headers=asked)
    assert '<html lang="en">' in signed_in.get("/", headers=asked).get_data(as_text=True)


def _login_token(client: FlaskClient) -> str:
    import re

    found = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    )
    assert found
    return found.group(1)
