"""The enterprises and publicity points on the commander's map in headless Chromium: chosen in
the layer control, fetched from this app, drawn in their colours (a polygon enterprise as a
polygon, a loudspeaker route as a line), their tooltips as text, their figures in the summary
panel; a screenshot is saved."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from playwright.sync_api import Response
from sqlalchemy import text

from geodata.records import enterprise_reviews, enterprises, publicity
from geodata.records.enterprise_reviews import CHECKLIST, Review
from geodata.records.enterprises import EnterpriseFields
from geodata.records.placed import Where
from tests import conftest
from tests.live_server import serving
from tests.paths import SCREENSHOTS
from tests.webapp.map.test_browser import visit
from tests.webapp.small_town_data import insert_test_town
from webapp import create_app
from webapp.map.command_post_style import ENTERPRISE_COLOURS, PUBLICITY_COLOURS
from webapp.map.style import LAYER_TITLES

SHOWCASE = SCREENSHOTS / "map-enterprises.png"
XSS_NAME = "<img src=x onerror=alert(3)>"


def _town(db: conftest.TestDatabase) -> None:
    with db.owner.begin() as conn:
        insert_test_town(conn)
        conn.execute(text("INSERT INTO risk_areas (code, name, from_day, created_by)"
                          " VALUES ('WH', 'Wuhan', '2026-01-20', 't')"))  # fmt: skip
        square = "POLYGON((114.306 30.586, 114.309 30.586, 114.309 30.589, 114.306 30.589,"
        square += " 114.306 30.586))"
        for source, name, where, risk in (
            ("e-approved", "Approved mill", Where(lon=114.302, lat=30.583), {"WH": 3}),
            ("e-pending", XSS_NAME, Where(wkt=square), {}),
        ):
            enterprises.add(conn, source, EnterpriseFields(
                name=name, kind="factory", responsible="Li Si", staff_total=50, staff_local=40,
                risk_staff=risk, where=where))  # fmt: skip
        approved = enterprises.ref(conn, "e-approved", "t")
        day = date(2026, 2, 5)
        enterprise_reviews.add(conn, approved, Review(decision="approved",
                               checklist=dict.fromkeys(CHECKLIST, True), reviewed_on=day),
                               reviewer="cmd", today=day)  # fmt: skip
        now = datetime.now(UTC)
        publicity.upsert(conn, "pp-banner", publicity.PointFields(
            kind="banner", content="戴口罩 勤洗手", put_up_on=date(2026, 2, 1),
            where=Where(lon=114.315, lat=30.588)), now=now)  # fmt: skip
        publicity.upsert(conn, "pp-route", publicity.PointFields(
            kind="loudspeaker_route", content="Stay home", put_up_on=date(2026, 2, 1),
            where=Where(wkt="LINESTRING(114.301 30.581, 114.309 30.581, 114.319 30.584)")),
            now=now)  # fmt: skip


def _fetched(url: str) -> Callable[[Response], bool]:
    return lambda response: url in response.url


def test_enterprises_and_publicity_points_on_the_map(
    throwaway_db: conftest.TestDatabase, tmp_path: Path
) -> None:
    _town(throwaway_db)
    app = create_app(throwaway_db.settings, engine=throwaway_db.app,
                     admin_engine=throwaway_db.owner)  # fmt: skip
    viewer = conftest.make_account(throwaway_db, "enterprise-viewer", "commander")
    with serving(app) as base, visit(base, viewer) as (page, record):
        for name in ("enterprises", "publicity_points"):
            with page.expect_response(_fetched(f"/api/layers/{name}.geojson")):
                page.locator(".leaflet-control-layers-overlays label").filter(
                    has_text=str(LAYER_TITLES[name])).locator("input").check()  # fmt: skip
        page.wait_for_selector(".leaflet-town-publicity_points-pane path.leaflet-interactive")
        shapes = page.locator(".leaflet-town-enterprises-pane path.leaflet-interactive")
        assert shapes.count() == 2
        fills = {shapes.nth(i).get_attribute("fill") for i in range(2)}
        assert fills == {ENTERPRISE_COLOURS["approved"], ENTERPRISE_COLOURS["pending"]}
        points = page.locator(".leaflet-town-publicity_points-pane path.leaflet-interactive")
        assert points.count() == 2
        # put up on 1 February and never checked: both flagged (the route, a line, by its stroke)
        assert {points.nth(i).get_attribute("fill") for i in range(2)} == {
            PUBLICITY_COLOURS["unchecked"], "none"}  # fmt: skip
        assert {points.nth(i).get_attribute("stroke") for i in range(2)} == {
            PUBLICITY_COLOURS["unchecked"]}  # fmt: skip
        page.mouse.move(0, 0)
        shapes.nth(1).hover(force=True)
        tooltip = page.locator(".leaflet-tooltip").last
        tooltip.wait_for(state="visible", timeout=5000)
        assert "Resumption" in tooltip.inner_text()
        assert page.locator("img[src='x']").count() == 0
        page.wait_for_function("document.documentElement.dataset.coverageLoaded")
        names = ("enterprisesApproved", "enterprisesPending", "publicityUnchecked")
        summary = {n: page.locator(f"#map-summary .summary-{n}").inner_text() for n in names}
        assert summary == {"enterprisesApproved": "1", "enterprisesPending": "1",
                           "publicityUnchecked": "2"}  # fmt: skip
        record.assert_clean()
        assert record.dialogs == []
        shot = tmp_path / "map-enterprises.png"
        page.screenshot(path=str(shot), full_page=True)
        SHOWCASE.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SHOWCASE)
        assert shot.stat().st_size > 10_000
