"""The commanders' replayed layers (isolation beds, closure compliance, staffing) and the
page itself: small, in both languages."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import conftest
from tests.webapp.map.commander_town import PAGE_LIMIT_BYTES, client_for, serve_town
from tests.webapp.small_town_data import XSS_CHECKPOINT

# -- layers ------------------------------------------------------------------------------


def _layer(client: FlaskClient, name: str, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/layers/{name}.geojson{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    collection: dict[str, Any] = orjson.loads(response.get_data())
    return collection


def test_isolation_sites_show_beds_free_and_in_use(own_db: conftest.TestDatabase) -> None:
    served = serve_town(own_db)  # this test adds a site
    with own_db.owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO isolation_sites (source_id, name, beds, beds_used, geom) VALUES"
                " ('cmd-site', 'Site <b>', 40, 25, ST_SetSRID(ST_MakePoint(114.305, 30.584), 4326))"
            )
        )
    client = client_for(served.app, served.accounts["commander"])
    sites = _layer(client, "isolation_sites")["features"]
    mine = [f["properties"] for f in sites if f["properties"]["name"] == "Site <b>"]
    assert len(mine) == 1
    assert (mine[0]["beds"], mine[0]["beds_used"], mine[0]["beds_free"]) == (40, 25, 15)
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "Beds in use" in html
    assert "Beds free" in html


def test_compounds_show_closure_compliance(
    app: Flask, accounts: dict[str, conftest.Account]
) -> None:
    compounds = _layer(client_for(app, accounts["commander"]), "compounds")["features"]
    assert len(compounds) == 1
    # Its only entrance is sealed: no open entrance at all, a safety fault.
    assert compounds[0]["properties"]["compliance"] == "no_open_entrance"
    assert compounds[0]["properties"]["sealed_entrances"] == 1


def test_checkpoints_show_staffing_and_entrances_replay_a_day(
    app: Flask, accounts: dict[str, conftest.Account]
) -> None:
    client = client_for(app, accounts["commander"])
    staffing = {
        f["properties"]["name"]: f["properties"]["staffing"]
        for f in _layer(client, "checkpoints")["features"]
    }
    assert staffing == {XSS_CHECKPOINT: "unstaffed", "North road checkpoint": "closed"}
    assert len(_layer(client, "entrances")["features"]) == 3
    # The entrances were set up on 2026-02-01: the day before, none existed.
    assert _layer(client, "entrances", "?as_of=2026-01-31")["features"] == []
    assert client.get("/api/layers/entrances.geojson?as_of=yesterday").status_code == 400


# -- the page ----------------------------------------------------------------------------


def test_page_is_small_and_speaks_both_languages(
    app: Flask, accounts: dict[str, conftest.Account]
) -> None:
    client = client_for(app, accounts["commander"])
    english = client.get("/")
    html = english.get_data(as_text=True)
    assert len(english.get_data()) < PAGE_LIMIT_BYTES
    assert '<html lang="en">' in html  # the town's names are not Chinese
    assert "Legend" in html
    assert "/tiles/buildings/{z}/{x}/{y}.pbf" in html
    assert "/api/v1/coverage" in html
    chinese = client.get("/?lang=zh_CN").get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese
    for term in ("图例", "网格", "卡点", "出入口", "集中隔离点"):
        assert term in chinese
    assert client.get("/?lang=xx").status_code == 200


def test_chinese_is_the_default_for_a_chinese_named_town(own_db: conftest.TestDatabase) -> None:
    served = serve_town(own_db)  # this test renames a village
    with own_db.owner.begin() as conn:
        conn.execute(text("UPDATE villages SET name = '东湖村' WHERE code = 'WT-A'"))
    html = client_for(served.app, served.accounts["commander"]).get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
