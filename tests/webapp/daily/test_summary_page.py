"""The 18:00 summary over HTTP on the sample town: the page in Chinese with its charts,
table and map; the JSON and the CSV with the same numbers; planners' figures published;
a grid worker refused nothing they may not see (coverage is theirs), an analyst without a
map snapshot."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import conftest
from webapp import create_app


@pytest.fixture(scope="module")
def app(throwaway_sample_db: conftest.TestDatabase) -> Flask:
    db = throwaway_sample_db
    return create_app(db.settings, engine=db.app, admin_engine=db.owner)


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
