"""The commander's map on a phone (390×844) in headless Chromium: the controls fold into one
menu and do not cover one another, the legend starts folded, the menu opens the controls."""

from __future__ import annotations

from typing import Any

from tests import conftest
from tests.browser import recorded_page, sign_in
from tests.live_server import serving
from tests.paths import SCREENSHOTS
from webapp import create_app

VISIBLE_BOXES = """
() => Array.from(document.querySelectorAll('.leaflet-control, .account-bar, .map-legend'))
  .filter(e => e.offsetParent !== null && getComputedStyle(e).display !== 'none')
  .map(e => { const r = e.getBoundingClientRect();
              return {name: e.className, x: r.x, y: r.y, w: r.width, h: r.height}; })
  .filter(b => b.w > 0 && b.h > 0)
"""


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(
        a["x"] < b["x"] + b["w"] - 1
        and b["x"] < a["x"] + a["w"] - 1
        and a["y"] < b["y"] + b["h"] - 1
        and b["y"] < a["y"] + a["h"] - 1
    )


def test_the_map_folds_on_a_phone(throwaway_sample_db: conftest.TestDatabase) -> None:
    database = throwaway_sample_db
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    account = conftest.make_account(database, "phone-commander", "commander")
    with serving(app) as base, recorded_page(base) as (page, record):
        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, base + "/?lang=zh_CN", account)
        page.wait_for_load_state("networkidle")
        page.wait_for_selector(".map-menu-toggle a")
        boxes = page.evaluate(VISIBLE_BOXES)
        page.screenshot(path=str(SCREENSHOTS / "phone-map.png"))
        clashes = [
            (a["name"], b["name"])
            for i, a in enumerate(boxes)
            for b in boxes[i + 1 :]
            if _overlaps(a, b)
        ]
        assert clashes == []
        assert not page.locator(".map-legend details").evaluate("d => d.open")
        assert not page.locator(".colour-by-control").is_visible()
        page.locator(".map-menu-toggle a").click()
        assert page.locator(".colour-by-control").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "phone-map-menu.png"))
        assert record.page_errors == []
