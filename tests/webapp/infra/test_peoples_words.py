"""People's words on the pages of the sample town: a household page names its address and
its status in the page's language, never a source id or an enum value; the navigation is
the same translated bar on every page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import conftest


@pytest.fixture(scope="module")
def admin(throwaway_sample_db: conftest.TestDatabase) -> conftest.Account:
    return conftest.make_account(throwaway_sample_db, "words-admin", "admin")


def _client(app: Flask, account: conftest.Account) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {account.token}"
    return client


def test_a_household_page_names_its_address_and_status(
    app: Flask, throwaway_sample_db: conftest.TestDatabase, admin: conftest.Account
) -> None:
    with throwaway_sample_db.owner.connect() as conn:
        row = conn.execute(
            text(
                "SELECT h.id, h.source_id, h.unit, h.room, v.name AS village, c.name AS compound"
                " FROM households h JOIN buildings b ON b.id = h.building_id"
                " JOIN compounds c ON c.id = b.compound_id JOIN grids g ON g.id = h.grid_id"
                " JOIN villages v ON v.id = g.village_id WHERE h.status = 'home_quarantine'"
                " AND c.name IS NOT NULL AND h.unit IS NOT NULL AND h.room IS NOT NULL"
                " ORDER BY h.id LIMIT 1"
            )
        ).one()
    client = _client(app, admin)
    chinese = client.get(f"/households/{row.id}?lang=zh_CN").get_data(as_text=True)
    assert row.village in chinese
    assert row.compound in chinese
    assert f"{row.unit} 单元" in chinese
    assert f"{row.room} 室" in chinese
    assert "居家隔离" in chinese
    assert "home_quarantine" not in chinese
    assert row.source_id not in chinese
    english = client.get(f"/households/{row.id}?lang=en").get_data(as_text=True)
    assert "Home quarantine" in english
    assert f"Unit {row.unit}" in english


def _nav(html: str) -> list[str]:
    bar = re.search(r'<nav class="account-bar".*?</nav>', html, re.S)
    assert bar, "every page has the account bar"
    return re.findall(r">([^<>]+)</a>", bar.group(0))


@pytest.mark.parametrize("path", ["/", "/plan", "/exports", "/supervision", "/people"])
def test_the_navigation_is_one_translated_bar(
    app: Flask, admin: conftest.Account, path: str
) -> None:
    client = _client(app, admin)
    chinese = _nav(client.get(f"{path}?lang=zh_CN").get_data(as_text=True))
    english = _nav(client.get(f"{path}?lang=en").get_data(as_text=True))
    assert "地图" in chinese[0]
    assert "Town map" in english[0]
    assert len(chinese) == len(english)
    assert not any("Households" in c for c in chinese)  # one language at a time
