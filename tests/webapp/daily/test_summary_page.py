"""The 18:00 summary over HTTP on the sample town: the page in Chinese with its charts,
table and map; the JSON and the CSV with the same numbers; planners' figures published;
a grid worker refused nothing they may not see (coverage is theirs), an analyst without a
map snapshot."""

from __future__ import annotations

import csv
import io
import re
import zlib
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import conftest
from tests.browser import recorded_page, sign_in
from tests.live_server import serving
from tests.paths import SCREENSHOTS


@pytest.fixture(scope="module")
def accounts(throwaway_sample_db: conftest.TestDatabase) -> dict[str, conftest.Account]:
    db = throwaway_sample_db
    return {
        "commander": conftest.make_account(db, "sum-commander", "commander"),
        "planner": conftest.make_account(db, "sum-planner", "planner"),
    }


def _client(app: Flask, account: conftest.Account) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {account.token}"
    return client


def test_the_page_json_and_csv_agree(app: Flask, accounts: dict[str, conftest.Account]) -> None:
    day = (datetime.now() - timedelta(days=2)).date().isoformat()
    client = _client(app, accounts["commander"])
    body = client.get(f"/api/v1/daily/summary?date={day}").get_json()
    assert body["frozen"] is True  # a past day: issued when first asked
    assert body["disclosure"] == "exact"
    page = client.get(f"/daily/summary?date={day}&lang=zh_CN").get_data(as_text=True)
    assert "<polyline" in page
    assert "<svg" in page
    assert "户" in page
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/api/v1/daily/summary.csv?date={day}").get_data(as_text=True))
        )
    )
    town = dict(zip(rows[0], rows[-1], strict=True))
    assert int(town["households_seen"]) == body["town"]["households_seen"]
    assert client.get("/api/v1/daily/summary?date=yesterday").status_code == 400


def test_planners_read_published_figures(app: Flask, accounts: dict[str, conftest.Account]) -> None:
    day = (datetime.now() - timedelta(days=2)).date().isoformat()
    body = _client(app, accounts["planner"]).get(f"/api/v1/daily/summary?date={day}").get_json()
    assert body["disclosure"] == "published"
    assert "map_svg" not in body
    assert all(v is None or v % 5 == 0 for k, v in body["town"].items())


def test_the_pdf_embeds_its_chinese_font(app: Flask, accounts: dict[str, conftest.Account]) -> None:
    day = (datetime.now() - timedelta(days=2)).date().isoformat()
    answer = _client(app, accounts["commander"]).get(f"/api/v1/daily/summary.pdf?date={day}")
    assert answer.status_code == 200
    pdf = answer.get_data()
    assert pdf.startswith(b"%PDF")
    assert any(b"+Noto-Sans-CJK-SC" in name for name in _fonts(pdf))  # a subset, embedded
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "daily-summary.pdf").write_bytes(pdf)


def _fonts(pdf: bytes) -> set[bytes]:
    """The BaseFont names of a PDF, also those inside compressed object streams."""
    names = set(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+\-]+)", pdf))
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            names |= set(
                re.findall(rb"/BaseFont\s*/([A-Za-z0-9+\-]+)", zlib.decompress(stream.group(1)))
            )
        except zlib.error:
            continue
    return names


def test_the_page_in_chromium(app: Flask, accounts: dict[str, conftest.Account]) -> None:
    day = (datetime.now() - timedelta(days=2)).date().isoformat()
    with serving(app) as base, recorded_page(base) as (page, record):
        sign_in(page, f"{base}/daily/summary?date={day}&lang=zh_CN", accounts["commander"])
        page.wait_for_selector(".summary-villages")
        assert page.locator(".summary-charts polyline").count() == 4
        assert page.locator(".summary-map svg path").count() > 0
        page.screenshot(path=str(SCREENSHOTS / "daily-summary.png"), full_page=True)
        record.assert_clean()
