"""The map's default colours on the sample town: its screening campaign's progress per grid
spreads over at least 3 colour classes, none holding more than 70 % of the grids."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import Connection, text

from geodata.auth.access import local_operator
from geodata.services.campaigns import list_campaigns, progress
from tests import conftest
from tests.live_server import serving
from tests.paths import SCREENSHOTS
from tests.webapp.map.test_browser import visit
from webapp import create_app
from webapp.map.style import COVERAGE_CLASSES

ADMIN = local_operator("tester")


def colour_class(share: float) -> int:
    """The index of the class a share falls in, as town-map.js chooses it."""
    return next(
        (i for i, (upper, _) in enumerate(COVERAGE_CLASSES) if share < upper),
        len(COVERAGE_CLASSES) - 1,
    )


def test_the_default_campaign_colours_spread(sample_conn: Connection) -> None:
    campaigns = list_campaigns(sample_conn, ADMIN)
    assert campaigns, "the sample town has a screening campaign"
    nearest = campaigns[0]  # the map's default: the active one due first
    report = progress(sample_conn, ADMIN, nearest["id"])
    grids = [g for g in report["grids"] if g["households"]]
    grid_count = sample_conn.execute(text("SELECT count(*) FROM grids")).scalar()
    assert len(grids) == grid_count
    classes = Counter(colour_class(g["seen"] / g["households"]) for g in grids)
    assert len(classes) >= 3, classes
    assert max(classes.values()) <= 0.7 * len(grids), classes


def test_the_map_colours_grids_by_the_campaign(
    throwaway_sample_db: conftest.TestDatabase, tmp_path: Path
) -> None:
    """In Chromium, as a commander: the campaign is chosen by default and the grids take at
    least 3 of the classes' colours, none more than 70 % of them."""
    database = throwaway_sample_db
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    account = conftest.make_account(database, "campaign-viewer", "commander")
    with serving(app) as base, visit(base, account) as (page, record):
        page.wait_for_function("document.documentElement.dataset.campaignLoaded !== undefined")
        page.wait_for_function("document.documentElement.dataset.coverageLoaded === 'true'")
        select = page.locator("select.campaign-select")
        assert select.is_visible()
        assert "Second full screening" in select.inner_text()
        assert page.locator(".colour-by-campaign input").is_checked()
        fills = page.locator(".leaflet-town-grids-pane path.leaflet-interactive").evaluate_all(
            "paths => paths.map(p => p.getAttribute('fill'))"
        )
        palette = {colour.lower() for _, colour in COVERAGE_CLASSES}
        counts = Counter(f.lower() for f in fills if f and f.lower() in palette)
        assert len(counts) >= 3, counts
        assert max(counts.values()) <= 0.7 * len(fills), counts
        # the summary panel: the town's headline figures and their change since yesterday
        page.wait_for_function("document.getElementById('map-summary').dataset.compared")
        screened = page.locator("#map-summary .summary-screened").inner_text()
        assert "%" in screened
        assert "pt)" in screened
        page.screenshot(path=str(SCREENSHOTS / "campaign-colours.png"), full_page=True)
        assert record.page_errors == []
