"""The commander's map shows the patrol zones by time of day and the loops of the stored
routes (not the retired ones) as a line layer whose click opens zone, loop, period, metres
and hours; on the small grid town, with a day zoning applied and one zone's route stored.

Screenshot: screenshots/patrol-routes-map.png.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import text

from geodata.auth.access import local_operator
from geodata.services import patrol_proposals as pp
from geodata.services.patrol_routes import apply_patrol_routes, patrol_route_plan
from tests import conftest
from tests.browser import recorded_page, sign_in
from tests.live_server import serving
from tests.paths import SCREENSHOTS
from tests.patrol_town import LAT0, LON0, make_grid_town
from webapp import create_app
from webapp.map.style import LAYER_TITLES, PERIOD_COLOURS

MARKUP = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def town(throwaway_db: conftest.TestDatabase) -> dict[str, Any]:
    who = local_operator("planner")
    with throwaway_db.owner.begin() as conn:
        make_grid_town(conn)
    with throwaway_db.owner.begin() as conn:
        plan = pp.propose(conn, who, zones=2, period="night")
        feats = plan["units"]["features"]
        pp.apply_assignment(
            conn, who, town=plan["town"], period="night", by="hours", village=None,
            keep_existing=False, units=[f["properties"]["unit"] for f in feats],
            zones=[f["properties"]["zone"] for f in feats],
        )  # fmt: skip
    zone = "plan:night:town:1"
    for _ in range(2):  # the second retires the first
        with throwaway_db.owner.begin() as conn:
            routes = patrol_route_plan(conn, who, zone=zone, loop_hours=0.5)
            apply_patrol_routes(conn, who, routes)
    loops = routes["routes"][0]["loops"]
    with throwaway_db.owner.begin() as conn:  # a zone id written past the rule, as markup
        route = conn.execute(
            text(
                "INSERT INTO patrol_routes (zone, period, station, route_m, street_m, hours,"
                " created_by) VALUES (:z, 'day', 'x', 10, 10, 0.1, 'test') RETURNING id"
            ),
            {"z": MARKUP},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO patrol_loops (route_id, loop, period, route_m, hours, geom)"
                " VALUES (:r, 1, 'day', 10, 0.1, ST_MakeLine(ST_Point(:x0, :y0, 4326),"
                " ST_Point(:x1, :y1, 4326)))"
            ),
            {"r": route, "x0": LON0, "y0": LAT0 + 0.004, "x1": LON0 + 0.009, "y1": LAT0 + 0.0085},
        )
    commander = conftest.make_account(throwaway_db, "patrol-map-commander", "commander")
    app = create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )
    return {"app": app, "commander": commander, "zone": zone, "loops": len(loops)}


def test_the_routes_layer_lists_the_loops_of_routes_not_retired(town: dict[str, Any]) -> None:
    app: Flask = town["app"]
    headers = {"Authorization": f"Bearer {town['commander'].token}"}
    body = app.test_client().get("/api/layers/patrol_routes.geojson", headers=headers)
    assert body.status_code == 200
    every = body.get_json()["features"]
    features = [f for f in every if f["properties"]["zone"] != MARKUP]
    assert len(features) == town["loops"] > 1  # one route's loops, the retired one's left out
    for f in features:
        assert f["geometry"]["type"] == "LineString"
        assert set(f["properties"]) == {"zone", "loop", "period", "route_m", "hours"}
        assert f["properties"]["zone"] == town["zone"]
        assert f["properties"]["period"] == "night"
    assert sorted(f["properties"]["loop"] for f in features) == list(range(1, town["loops"] + 1))


def test_the_commander_sees_zones_by_period_and_the_routes_with_popups(
    town: dict[str, Any], tmp_path: Path
) -> None:
    with serving(town["app"]) as base, recorded_page(base) as (page, record):
        with page.expect_response(lambda r: "/api/layers/checkpoints.geojson" in r.url):
            sign_in(page, base + "/", town["commander"])
        page.wait_for_load_state("networkidle")
        control = page.locator(".leaflet-control-layers-overlays label")
        for name in ("patrol_zones", "patrol_routes"):
            title = re.compile(f"^\\s*{LAYER_TITLES[name]}\\s*$")
            with page.expect_response(re.compile(f"/api/layers/{name}\\.geojson")):
                control.filter(has_text=title).locator("input").check()
        night = PERIOD_COLOURS["night"]
        zones = page.locator(".leaflet-town-patrol_zones-pane path")
        expect(zones).to_have_count(2)
        assert {zones.nth(i).get_attribute("stroke") for i in range(2)} == {night}
        assert zones.first.get_attribute("stroke-dasharray") == "8 5"
        loops = page.locator(".leaflet-town-patrol_routes-pane path")
        expect(loops).to_have_count(town["loops"] + 1)
        assert loops.first.get_attribute("stroke") == night
        assert loops.last.get_attribute("stroke") == PERIOD_COLOURS["day"]
        legend = page.locator(".map-legend").inner_text()
        assert "Patrol route loop, night" in legend
        assert "Patrol zone, day" in legend
        # click a point on a loop's line (a third of the way along its SVG path)
        point = loops.first.evaluate(
            "p => { const q = p.getPointAtLength(p.getTotalLength() / 3);"
            " const m = p.getScreenCTM(); return [q.x * m.a + m.e, q.y * m.d + m.f]; }"
        )
        page.mouse.click(point[0], point[1])
        popup = page.locator(".leaflet-popup-content")
        expect(popup).to_contain_text(town["zone"])
        expect(popup).to_contain_text("night")
        expect(popup).to_contain_text("Hours")
        shot = tmp_path / "patrol-routes-map.png"
        page.screenshot(path=str(shot))
        SCREENSHOTS.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOTS / "patrol-routes-map.png")
        # the zone id written as markup shows as text
        point = loops.last.evaluate(
            "p => { const q = p.getPointAtLength(p.getTotalLength() / 2);"
            " const m = p.getScreenCTM(); return [q.x * m.a + m.e, q.y * m.d + m.f]; }"
        )
        page.mouse.click(point[0], point[1])
        expect(page.locator(".leaflet-popup-content", has_text=MARKUP)).to_be_visible()
        assert page.locator(".leaflet-popup-content img, .leaflet-tooltip img").count() == 0
        assert page.locator("img[src='x']").count() == 0
    record.assert_clean()
