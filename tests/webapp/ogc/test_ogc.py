"""OGC API - Features under /ogc: documents, paging, filters, privacy per role, IDOR probes,
and GDAL's OAPIF driver reading it over HTTP with a bearer token."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from geodata.town_time import TOWN_TIMEZONE
from tests import conftest
from tests.live_server import serving
from webapp import create_app
from webapp.infra.policy import policy_of


@dataclass(frozen=True)
class Town:
    app: Flask
    db: conftest.TestDatabase
    tokens: dict[str, str]
    my_grid: str
    other_grid: str
    other_household: int


@pytest.fixture(scope="module")
def town(throwaway_sample_db: conftest.TestDatabase) -> Town:
    """The sample town in a database of this module's own: the accounts, the audit rows and
    the published tables its requests commit go with it."""
    database = throwaway_sample_db
    my_grid, other_grid = conftest.two_settled_grids(database)
    with database.owner.connect() as conn:
        other_household = conn.execute(
            text("SELECT h.id FROM households h JOIN grids g ON g.id = h.grid_id "
                 "WHERE g.code = :g ORDER BY h.id LIMIT 1"), {"g": other_grid}
        ).scalar_one()  # fmt: skip
    accounts = {
        "admin": conftest.make_account(database, "o-admin", "admin"),
        "analyst": conftest.make_account(database, "o-analyst", "analyst"),
        "planner": conftest.make_account(database, "o-planner", "planner"),
        "grid_worker": conftest.make_account(
            database, "o-worker", "grid_worker", grid_codes=(my_grid,)
        ),
    }
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return Town(
        app, database, {k: a.token for k, a in accounts.items()},
        my_grid, other_grid, other_household,
    )  # fmt: skip


def get(town: Town, role: str, url: str, **headers: str) -> Any:
    client: FlaskClient = town.app.test_client()
    return client.get(url, headers={"Authorization": f"Bearer {town.tokens[role]}", **headers})


def count(town: Town, sql: str, **params: Any) -> int:
    with town.db.owner.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_every_endpoint_has_a_policy(town: Town) -> None:
    missing = [
        r.endpoint for r in town.app.url_map.iter_rules() if policy_of(town.app, r.endpoint) is None
    ]
    assert missing == []


def test_documents(town: Town) -> None:
    landing = get(town, "analyst", "/ogc").get_json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "alternate", "service-desc", "conformance", "data"} <= rels
    conformance = get(town, "analyst", "/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    api = get(town, "analyst", "/ogc/api")
    assert api.mimetype == "application/vnd.oai.openapi+json"
    assert api.get_json()["openapi"].startswith("3.0")
    assert "/collections/{collectionId}/items" in api.get_json()["paths"]
    html = get(town, "analyst", "/ogc/collections", Accept="text/html")
    assert html.mimetype == "text/html"
    assert "Collections" in html.get_data(as_text=True)
    assert get(town, "analyst", "/ogc/collections?f=html").mimetype == "text/html"
    assert get(town, "analyst", "/ogc/collections?f=json").mimetype == "application/json"


def test_unknown_query_parameter_is_refused(town: Town) -> None:
    items = "/ogc/collections/buildings/items"
    for url in (
        "/ogc?x=1",
        "/ogc/collections?foo=bar",
        f"{items}?sort=1",
        f"{items}?f=xml",
        f"{items}?limit=x",
        f"{items}?bbox=1,2,3",
        f"{items}?datetime=2026-01-01",
    ):
        response = get(town, "analyst", url)
        assert response.status_code == 400, url
        assert response.get_json()["code"]


def test_collections_per_role(town: Town) -> None:
    def ids(role: str) -> set[str]:
        return {c["id"] for c in get(town, role, "/ogc/collections").get_json()["collections"]}

    assert {"buildings", "households", "residents-by-grid", "coverage-by-grid"} <= ids("analyst")
    assert "households" not in ids("planner")
    assert "households-by-hex" in ids("planner")
    assert "households" in ids("grid_worker")
    assert "households-by-grid" not in ids("grid_worker")
    assert get(town, "planner", "/ogc/collections/residents/items").status_code == 404


def test_items_paging_bbox_and_one_item(town: Town) -> None:
    total = count(town, "SELECT count(*) FROM buildings")
    page = get(town, "analyst", "/ogc/collections/buildings/items?limit=10&offset=5")
    assert page.mimetype == "application/geo+json"
    doc = page.get_json()
    assert doc["numberMatched"] == total
    assert doc["numberReturned"] == len(doc["features"]) == 10
    after = next(link["href"] for link in doc["links"] if link["rel"] == "next")
    assert "offset=15" in after
    assert "limit=10" in after
    assert "crs" not in doc
    west, south, east, north = count_box(town)
    boxed = get(
        town,
        "analyst",
        f"/ogc/collections/buildings/items?bbox={west},{south},{east},{north}&limit=10000",
    )
    assert 0 < boxed.get_json()["numberMatched"] < total
    fid = doc["features"][0]["id"]
    one = get(town, "analyst", f"/ogc/collections/buildings/items/{fid}").get_json()
    assert one["id"] == fid
    assert one["type"] == "Feature"
    assert get(town, "analyst", "/ogc/collections/buildings/items/999999999").status_code == 404


def test_a_limit_above_the_maximum_is_clamped_and_a_bad_one_refused(town: Town) -> None:
    from webapp.ogc.documents import MAX_LIMIT

    items = "/ogc/collections/buildings/items"
    for huge in (str(MAX_LIMIT + 1), "99999999999999999999"):
        doc = get(town, "analyst", f"{items}?limit={huge}").get_json()
        assert doc["numberReturned"] == min(MAX_LIMIT, doc["numberMatched"])
    for bad in ("limit=0", "limit=-3", "limit=x", "offset=-1", "offset=1e3"):
        answer = get(town, "analyst", f"{items}?{bad}")
        assert answer.status_code == 400, bad
        assert bad.split("=")[0] in answer.get_json()["description"]


def count_box(town: Town) -> tuple[float, float, float, float]:
    with town.db.owner.connect() as conn:
        row = conn.execute(
            text("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
                 "FROM villages ORDER BY code LIMIT 1")
        ).one()  # fmt: skip
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def test_datetime_filters_visits(town: Town) -> None:
    with town.db.owner.connect() as conn:
        day = conn.execute(text("SELECT min(visited_at)::date FROM visits")).scalar_one()
    expected = count(town, "SELECT count(*) FROM visits WHERE visited_at::date = :d", d=day)
    doc = get(town, "analyst", f"/ogc/collections/visits/items?datetime={day}&limit=1").get_json()
    assert doc["numberMatched"] == expected > 0
    interval = get(
        town, "analyst", f"/ogc/collections/visits/items?datetime=../{day}T23:59:59Z&limit=1"
    )
    assert interval.get_json()["numberMatched"] == expected


def test_analyst_reads_pseudonyms_and_no_personal_fields(town: Town) -> None:
    doc = get(town, "analyst", "/ogc/collections/residents/items?limit=50").get_json()
    for feature in doc["features"]:
        assert isinstance(feature["id"], str)
        assert len(feature["id"]) == 20
        assert not {"name", "id_number", "phone", "source_id"} & set(feature["properties"])
    fid = doc["features"][0]["id"]
    one = get(town, "analyst", f"/ogc/collections/residents/items/{fid}").get_json()
    assert one["id"] == fid
    with town.db.owner.connect() as conn:
        event = conn.execute(
            text("SELECT actor, action, object_type, row_count, detail FROM audit_events "
                 "WHERE object_type = 'residents' ORDER BY id DESC LIMIT 1")
        ).one()  # fmt: skip
    assert event.actor == "o-analyst"
    assert event.row_count == 1
    assert event.detail == {"via": "ogc", "privacy": "pseudonymous"}


def test_aggregates_suppress_small_counts(town: Town) -> None:
    doc = get(town, "planner", "/ogc/collections/residents-by-hex/items?limit=10000").get_json()
    values = [v for f in doc["features"] for k, v in f["properties"].items()
              if k in ("residents", "fever", "returnees", "close_contacts")]  # fmt: skip
    assert values
    assert all(v is None or v >= 5 for v in values)


def test_grid_worker_sees_own_grid_only(town: Town) -> None:
    mine = count(
        town,
        "SELECT count(*) FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code = :g",
        g=town.my_grid,
    )
    doc = get(town, "grid_worker", "/ogc/collections/households/items?limit=10000").get_json()
    assert doc["numberMatched"] == mine == len(doc["features"])
    assert {f["properties"]["grid"] for f in doc["features"]} == {town.my_grid}
    assert all("source_id" not in f["properties"] for f in doc["features"])
    probe = get(town, "grid_worker", f"/ogc/collections/households/items/{town.other_household}")
    assert probe.status_code == 404
    assert str(town.other_household) not in probe.get_data(as_text=True)
    visits = get(town, "grid_worker", "/ogc/collections/visits/items?limit=10000").get_json()
    assert {f["properties"]["grid"] for f in visits["features"]} <= {town.my_grid}
    for url in ("/exports/households.geojson", "/exports/households.geojson?privacy=full",
                "/ogc/collections/households-by-grid/items"):  # fmt: skip
        assert get(town, "grid_worker", url).status_code in (403, 404), url


def test_downloads(town: Town) -> None:
    response = get(town, "analyst", "/exports/households.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    doc = json.loads(response.get_data())
    assert len(doc["features"]) == count(town, "SELECT count(*) FROM grids")
    gpkg = get(town, "analyst", "/exports/residents.gpkg?privacy=pseudonymous")
    assert gpkg.status_code == 200
    assert gpkg.get_data()[:16] == b"SQLite format 3\x00"
    assert get(town, "analyst", "/exports/residents.csv?privacy=full").status_code == 403
    assert get(town, "analyst", "/exports/residents.csv?nope=1").status_code == 400
    assert get(town, "analyst", "/exports").status_code == 200
    assert get(town, "admin", "/exports/residents.csv?privacy=full").status_code == 200


def zulu(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def test_temporal_extents(town: Town) -> None:
    def interval(role: str, cid: str) -> list[str | None] | None:
        doc = get(town, role, f"/ogc/collections/{cid}").get_json()
        temporal = doc.get("extent", {}).get("temporal")
        return None if temporal is None else temporal["interval"][0]

    with town.db.owner.connect() as conn:
        first, last = (
            zulu(t)
            for t in conn.execute(text("SELECT min(visited_at), max(visited_at) FROM visits")).one()
        )
        back_first, back_last = conn.execute(
            text("SELECT min(returned_on)::text, max(returned_on)::text FROM residents")
        ).one()
        mine = conn.execute(
            text("SELECT max(v.visited_at) FROM visits v JOIN grids g ON g.id = v.grid_id "
                 "WHERE g.code = :g"), {"g": town.my_grid}
        ).scalar_one()  # fmt: skip
    assert interval("analyst", "visits") == [first, last]
    assert interval("admin", "residents") == [f"{back_first}T00:00:00Z", f"{back_last}T23:59:59Z"]
    # returns are published to analysts only as counts: no time to choose residents by
    assert interval("analyst", "residents") is None
    assert interval("analyst", "coverage-by-grid") == [f"{first[:10]}T00:00:00Z", None]
    assert interval("analyst", "buildings") is None
    assert interval("analyst", "visits-by-grid") is None
    listed = get(town, "analyst", "/ogc/collections").get_json()["collections"]
    visits = next(c for c in listed if c["id"] == "visits")
    assert visits["extent"]["temporal"]["interval"] == [[first, last]]
    worker = interval("grid_worker", "visits")
    assert worker is not None
    assert worker[1] == zulu(mine)


def test_export_form(town: Town) -> None:
    page = get(town, "planner", "/exports", Accept="text/html")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<form method="get"' in html
    for name in ("layer", "format", "privacy", "level"):
        assert f'<select name="{name}">' in html
    assert '<option value="aggregate">' in html
    assert '<option value="pseudonymous">' not in html  # not the planner's to choose
    assert '<option value="pseudonymous">' in get(town, "analyst", "/exports").get_data(
        as_text=True
    )
    chosen = get(
        town, "analyst",
        "/exports/file?layer=residents&format=csv&privacy=pseudonymous&level=grid",
    )  # fmt: skip
    assert chosen.status_code == 303
    assert chosen.headers["Location"].endswith(
        "/exports/residents.csv?privacy=pseudonymous&level=grid"
    )
    assert get(town, "analyst", "/exports/file?layer=nowhere&format=csv").status_code == 400
    assert get(town, "analyst", "/exports/file?layer=roads&format=csv&x=1").status_code == 400
    assert get(town, "grid_worker", "/exports").status_code == 403
    assert get(town, "grid_worker", "/exports/file?layer=roads&format=csv").status_code == 403


@pytest.fixture(scope="module")
def personal_values(town: Town) -> set[str]:
    with town.db.owner.connect() as conn:
        rows = conn.execute(text("SELECT name, id_number, phone FROM residents")).all()
    values = {v for row in rows for v in row if v}
    assert len(values) > 1000
    return values


def test_no_personal_values_in_aggregate_or_pseudonymous_answers(
    town: Town, personal_values: set[str]
) -> None:
    """Names, ID numbers and phones of the sample town never appear in the bytes sent."""
    urls = [
        (role, f"/ogc/collections/{layer}{suffix}/items?limit=10000")
        for layer in ("households", "residents", "visits")
        for role, suffix in (("analyst", ""), ("planner", "-by-grid"), ("planner", "-by-village"),
                             ("planner", "-by-hex"), ("grid_worker", ""))
    ]  # fmt: skip
    urls += [("analyst", "/ogc/collections/coverage-by-grid/items")]
    yesterday = (datetime.now(TOWN_TIMEZONE).date() - timedelta(days=1)).isoformat()
    urls += [
        (role, f"/exports/{layer}.{fmt}{query}")
        for layer in ("households", "residents", "visits")
        for fmt in ("geojson", "csv")
        for role, query in (("planner", ""), ("planner", f"?level=hex&as_of={yesterday}"),
                            ("analyst", "?privacy=pseudonymous"))
    ]  # fmt: skip
    for role, url in urls:
        response = get(town, role, url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        found = {v for v in re.findall(r"[^\s\",:{}\[\]]+", body) if v in personal_values}
        assert not found, (url, len(found))
        assert '"name"' not in body or "-by-" in url or "coverage" in url, url
        for field in ("id_number", "phone"):
            assert field not in body, url


def test_grid_worker_reads_nothing_of_other_grids(town: Town) -> None:
    """Every collection a grid worker may read, and every feature id of another grid."""
    with town.db.owner.connect() as conn:
        others = {
            layer: conn.execute(
                text(f"SELECT t.id FROM {layer} t JOIN grids g ON g.id = t.grid_id "  # noqa: S608 (table names from a literal list in this test)
                     "WHERE g.code <> :g ORDER BY t.id LIMIT 3"), {"g": town.my_grid}
            ).scalars().all()
            for layer in ("households", "residents", "visits")
        }  # fmt: skip
    listed = get(town, "grid_worker", "/ogc/collections").get_json()["collections"]
    for c in listed:
        doc = get(town, "grid_worker", f"/ogc/collections/{c['id']}/items?limit=10000").get_json()
        grids = {f["properties"].get("grid") for f in doc["features"]}
        if c["id"] in others or c["id"] == "coverage-by-grid":
            codes = grids | {f["properties"].get("code") for f in doc["features"]}
            assert codes - {None} <= {town.my_grid}, c["id"]
        if c["id"] == "coverage-by-village":  # the worker's village, summed over their grid
            (village,) = doc["features"]
            assert town.my_grid.startswith(village["properties"]["code"])
            mine = get(town, "grid_worker", "/ogc/collections/coverage-by-grid/items").get_json()
            assert (
                village["properties"]["households"]
                == mine["features"][0]["properties"]["households"]
            )
    for layer, ids in others.items():
        for fid in ids:
            probe = get(town, "grid_worker", f"/ogc/collections/{layer}/items/{fid}")
            assert probe.status_code == 404, (layer, fid)
    for url in ("/exports/visits.csv", "/exports/residents.geojson?privacy=pseudonymous",
                "/exports/coverage.geojson"):  # fmt: skip
        assert get(town, "grid_worker", url).status_code == 403, url


# -- GDAL ---------------------------------------------------------------------------------


def gdal(*args: str, token: str) -> str:
    command = [
        args[0],
        "--config",
        "GDAL_HTTP_HEADERS",
        f"Authorization: Bearer {token}",
        *args[1:],
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_lists_and_reads_the_collections(town: Town, tmp_path: Path) -> None:
    with serving(town.app) as base:
        listing = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc", token=town.tokens["analyst"])
        for name in ("buildings", "villages", "households-by-grid", "residents"):
            assert f": {name} (" in listing or f": {name}\n" in listing, listing
        out = tmp_path / "buildings.gpkg"
        gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{base}/ogc", "buildings",
             token=town.tokens["analyst"])  # fmt: skip
        assert pyogrio.read_info(out)["features"] == count(town, "SELECT count(*) FROM buildings")
        mine = tmp_path / "households.gpkg"
        gdal("ogr2ogr", "-f", "GPKG", str(mine), f"OAPIF:{base}/ogc", "households",
             token=town.tokens["grid_worker"])  # fmt: skip
        frame = pyogrio.read_dataframe(mine)
        assert set(frame["grid"]) == {town.my_grid}
