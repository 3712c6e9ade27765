"""The patrol zones page in headless Chromium on a small town: local requests only; propose,
move a street block to another zone (a click, then a zone; or a drag onto a block of the
zone) and see the table change, a move refused with its reason, apply.

Screenshots: screenshots/patrols.png (the proposal), screenshots/patrols-moved.png.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import text

from tests import conftest
from tests.browser import recorded_page, sign_in
from tests.live_server import serving
from tests.paths import SCREENSHOTS
from tests.patrol_town import make_grid_town
from webapp import create_app

K = 3


@pytest.fixture(scope="module")
def town(throwaway_db: conftest.TestDatabase) -> conftest.TestDatabase:
    with throwaway_db.owner.begin() as conn:
        make_grid_town(conn)
    return throwaway_db


@pytest.fixture(scope="module")
def planner(town: conftest.TestDatabase) -> conftest.Account:
    return conftest.make_account(town, "patrol-page-planner", "planner")


@pytest.fixture(scope="module")
def app(town: conftest.TestDatabase) -> Flask:
    return create_app(town.settings, engine=town.app, admin_engine=town.owner)


def _movable(app: Flask, planner: conftest.Account, plan: dict[str, Any]) -> tuple[int, int, int]:
    """A block whose move the API accepts: (unit, from zone, to zone)."""
    feats = plan["units"]["features"]
    body = {
        "town": plan["town"],
        "period": plan["period"],
        "units": [f["properties"]["unit"] for f in feats],
        "zones": [f["properties"]["zone"] for f in feats],
    }
    client = app.test_client()
    headers = {"Authorization": f"Bearer {planner.token}"}
    for unit, zone in zip(body["units"], body["zones"], strict=True):
        for to in range(1, K + 1):
            if to == zone:
                continue
            tried = client.post(
                "/api/v1/plan/patrols/rescore", json={**body, "unit": unit, "zone": to},
                headers=headers,
            )  # fmt: skip
            if tried.status_code == 200:
                return unit, zone, to
    raise AssertionError("no block can move")


def _refused(app: Flask, planner: conftest.Account, plan: dict[str, Any]) -> tuple[int, int]:
    """A move the API refuses because a zone would fall into pieces: (unit, to zone)."""
    feats = plan["units"]["features"]
    body = {
        "town": plan["town"],
        "period": plan["period"],
        "units": [f["properties"]["unit"] for f in feats],
        "zones": [f["properties"]["zone"] for f in feats],
    }
    client = app.test_client()
    headers = {"Authorization": f"Bearer {planner.token}"}
    for unit, zone in zip(body["units"], body["zones"], strict=True):
        for to in range(1, K + 1):
            if to != zone:
                tried = client.post(
                    "/api/v1/plan/patrols/rescore", json={**body, "unit": unit, "zone": to},
                    headers=headers,
                )  # fmt: skip
                if tried.status_code == 400 and "pieces" in tried.get_json()["message"]:
                    return unit, to
    raise AssertionError("every move is accepted")


def _row(page: Page, zone: int) -> Any:
    return page.locator(f"#patrol-rows tr[data-zone='{zone}']")


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    SCREENSHOTS.mkdir(exist_ok=True)
    shutil.copyfile(shot, SCREENSHOTS / name)


def test_propose_move_a_block_and_apply(
    app: Flask, planner: conftest.Account, town: conftest.TestDatabase, tmp_path: Path
) -> None:
    with serving(app) as base, recorded_page(base) as (page, record):
        sign_in(page, f"{base}/plan/patrols", planner)
        page.wait_for_url(re.compile(r"/plan/patrols"))
        page.wait_for_load_state("networkidle")
        assert page.title().startswith("Patrol zone planning")
        expect(page.locator("#patrol-village option")).to_have_count(2)  # the town, PT1
        page.fill("#patrol-zones", str(K))
        with page.expect_response(re.compile(r"/api/v1/plan/patrols/propose$")) as proposed:
            page.click("#patrol-propose")
        plan = proposed.value.json()
        expect(page.locator("#patrol-rows tr")).to_have_count(K, timeout=30_000)
        expect(page.locator("path.patrol-unit")).to_have_count(len(plan["units"]["features"]))
        expect(page.locator("#patrol-status")).to_contain_text(f"{K} zones proposed")
        assert page.is_enabled("#patrol-apply")
        page.wait_for_load_state("networkidle")
        _shot(page, tmp_path, "patrols.png")

        unit, source, to = _movable(app, planner, plan)
        before = {z: _row(page, z).locator("td").first.inner_text() for z in (source, to)}
        page.locator(f"path.patrol-unit-{unit}").click()
        expect(page.locator("#patrol-status")).to_contain_text(f"Street block {unit}")
        expect(_row(page, source)).to_have_class(re.compile("patrol-target"))
        _row(page, to).locator("th").click()
        expect(page.locator("#patrol-status")).to_have_text(
            f"Street block {unit} moved to zone {to}.", timeout=30_000
        )
        for z in (source, to):
            expect(_row(page, z)).to_have_class(re.compile("patrol-changed"))
            assert _row(page, z).locator("td").first.inner_text() != before[z]
        page.locator(f"path.patrol-unit-{unit}").hover()
        expect(page.locator(".leaflet-tooltip")).to_contain_text(str(to))
        _shot(page, tmp_path, "patrols-moved.png")

        # a move that would leave a zone in pieces: refused with the reason, nothing moves
        plan["units"]["features"] = [
            {**f, "properties": {**f["properties"], "zone": to}}
            if f["properties"]["unit"] == unit
            else f
            for f in plan["units"]["features"]
        ]
        bad_unit, bad_to = _refused(app, planner, plan)
        rows_before = page.locator("#patrol-rows").inner_text()
        page.locator(f"path.patrol-unit-{bad_unit}").click()
        _row(page, bad_to).locator("th").click()
        expect(page.locator("#patrol-status")).to_contain_text("pieces", timeout=30_000)
        expect(page.locator("#patrol-status")).to_have_class(re.compile("plan-error"))
        assert page.locator("#patrol-rows").inner_text() == rows_before
        # a block dragged onto a block of another zone moves there
        dragged, dragged_from, dragged_to = _movable(app, planner, plan)
        target = next(
            f["properties"]["unit"]
            for f in plan["units"]["features"]
            if f["properties"]["zone"] == dragged_to
        )
        for u in (dragged, target):
            box = page.locator(f"path.patrol-unit-{u}").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
            if u == dragged:
                page.mouse.down()
        page.mouse.up()
        expect(page.locator("#patrol-status")).to_have_text(
            f"Street block {dragged} moved to zone {dragged_to}.", timeout=30_000
        )
        expect(_row(page, dragged_from)).to_have_class(re.compile("patrol-changed"))
        with page.expect_response(re.compile(r"/api/v1/plan/patrols/apply$")) as applied:
            page.click("#patrol-apply")
        assert applied.value.status == 200
        expect(page.locator("#patrol-status")).to_have_text(f"{K} patrol zones written.")
    # the refused move's 400 is the one bad response, and the page showed it
    assert [r for r in record.bad_responses if "/rescore" not in r] == []
    record.bad_responses.clear()
    record.console[:] = [c for c in record.console if "400" not in c]
    record.assert_clean()
    with town.owner.connect() as conn:
        zones = conn.execute(
            text("SELECT source_id FROM patrol_zones WHERE period = 'day' ORDER BY source_id")
        ).scalars()
        assert list(zones) == [f"plan:day:town:{n}" for n in range(1, K + 1)]


def test_the_page_speaks_chinese(app: Flask, planner: conftest.Account, tmp_path: Path) -> None:
    with serving(app) as base, recorded_page(base) as (page, record):
        sign_in(page, f"{base}/plan/patrols?lang=zh_CN", planner)
        page.wait_for_url(re.compile(r"/plan/patrols"))
        page.wait_for_load_state("networkidle")
        assert page.title().startswith("巡逻片区规划")
        page.fill("#patrol-zones", str(K))
        page.click("#patrol-propose")
        expect(page.locator("#patrol-status")).to_contain_text(f"已生成 {K} 个片区方案")
        assert "片区" in page.locator("#patrol-table thead").inner_text()
        page.wait_for_load_state("networkidle")
        _shot(page, tmp_path, "patrols-zh.png")
    record.assert_clean()
