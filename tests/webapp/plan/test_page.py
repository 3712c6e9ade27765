"""The /plan page in headless Chromium: local requests only, a proposal with its covered share.

Screenshot: screenshots/plan.png.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests import conftest
from tests.browser import recorded_page, sign_in
from tests.live_server import serving
from tests.paths import SCREENSHOTS

SCREENSHOT = SCREENSHOTS / "plan.png"
SHARE = re.compile(r"^\d+\.\d %")


@pytest.fixture(scope="module")
def planner(throwaway_sample_db: conftest.TestDatabase) -> conftest.Account:
    return conftest.make_account(throwaway_sample_db, "plan-page-planner", "planner")


def _share(page: Page, cell: str) -> str:
    # The page's CSP forbids eval: wait on the text, not with page.wait_for_function.
    expect(page.locator(f"#{cell}")).to_have_text(SHARE, timeout=30_000)
    return str(page.text_content(f"#{cell}"))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_plan_page_proposes_and_scores_offline(
    app: Flask, planner: conftest.Account, lang: str, tmp_path: Path
) -> None:
    with serving(app) as base, recorded_page(base) as (page, record):
        sign_in(page, f"{base}/plan?lang={lang}", planner)
        page.wait_for_url(re.compile(r"/plan"))
        page.wait_for_load_state("networkidle")
        assert page.title().startswith("卡点规划" if lang == "zh_CN" else "Checkpoint planning")
        attribution = page.locator(".leaflet-control-attribution").inner_text()
        assert "© OpenStreetMap contributors" in attribution
        current = _share(page, "share-current")
        assert SHARE.match(current)
        page.fill("#plan-budget", "12")
        assert page.text_content("#plan-budget-value") == "12"
        page.click("#plan-propose")
        proposed = _share(page, "share-proposal")
        assert SHARE.match(proposed)
        assert page.locator(".plan-post-proposal").count() == 12
        assert page.is_enabled("#plan-apply")
        # A proposed post removed by a click: the share is scored again, never higher.
        page.locator(".plan-post-proposal").first.click()
        expect(page.locator(".plan-post-proposal")).to_have_count(11)
        page.wait_for_load_state("networkidle")
        fewer = _share(page, "share-proposal")
        assert float(fewer.split(" ")[0]) <= float(proposed.split(" ")[0])
        page.wait_for_selector(".seal-table button")
        page.wait_for_load_state("networkidle")
        seal_table = page.locator(".seal-table").inner_text()
        assert ":entrance/" not in seal_table  # names people use, never source ids
        assert " gate " in seal_table or "门" in seal_table
        if lang == "en":
            shot = tmp_path / "plan.png"
            page.screenshot(path=str(shot), full_page=True)
            SCREENSHOT.parent.mkdir(exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)
    record.assert_clean()
