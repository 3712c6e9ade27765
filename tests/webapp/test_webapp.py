"""The web app with Flask's test client: layer API, map page, headers, errors and health."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient
from shapely import LineString, MultiPolygon, Point, Polygon, box
from sqlalchemy import Connection, insert, text, update
from sqlalchemy.sql.expression import ColumnElement, func

from geodata import db
from geodata import models as m
from geodata import vocab as v
from geodata.maps.layers import LAYERS
from tests import conftest
from webapp import create_app
from webapp.infra import database
from webapp.infra.offline_assets import is_same_origin, remote_asset_urls
from webapp.infra.policy import public

PREFIX = "webapp-test:"
XSS_CHECKPOINT = "<img src=x onerror=alert(1)>"
XSS_VILLAGE = '"><script>alert(2)</script>'
SINCE = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)

# Values that must never appear in a layer: a resident's, a staff member's, an editor's.
PERSONAL_VALUES = (
    "Resident Zhang Secret",
    "320412199001011234",
    "13912345678",
    "13800000001",
    "Staff Wang Secret",
    "Editor Li Secret",
)
PERSONAL_KEYS = {"phone", "id_number", "changed_by", "leader", "leader_id", "members", "resident"}

# Village A (two grids) and village B (one compound), about 1 km each, near Wuhan.
VILLAGE_A = box(114.300, 30.580, 114.310, 30.590, ccw=False)  # clockwise on purpose
VILLAGE_B = box(114.312, 30.580, 114.322, 30.590)
GRID_A1 = box(114.300, 30.580, 114.305, 30.590)
GRID_A2 = box(114.305, 30.580, 114.310, 30.590)
COMPOUND_B = box(114.314, 30.582, 114.318, 30.586)


@dataclass(frozen=True)
class SmallTown:
    village_a: int
    village_b: int
    grid_ids: tuple[int, ...]
    checkpoint_entrance: int


def _geom(geom: Polygon | MultiPolygon | Point | LineString) -> ColumnElement[Any]:
    return func.ST_GeomFromText(geom.wkt, 4326)


def _one(conn: Connection, statement: Any) -> int:
    return int(conn.execute(statement).scalar_one())


def insert_test_town(conn: Connection) -> SmallTown:
    """Two villages, two grids, a compound, three entrances, two checkpoints, a road, and a
    household with a resident and a grid leader whose details no layer may show."""
    village_a = _one(
        conn,
        insert(m.Village)
        .values(
            source_id=f"{PREFIX}village/A",
            code="WT-A",
            name="East Lake Village",
            kind=v.VillageKind.VILLAGE,
            population=1200,
            geom=_geom(MultiPolygon([VILLAGE_A])),
        )
        .returning(m.Village.id),
    )
    village_b = _one(
        conn,
        insert(m.Village)
        .values(
            source_id=f"{PREFIX}village/B",
            code="WT-B",
            name=XSS_VILLAGE,
            kind=v.VillageKind.COMMUNITY,
            geom=_geom(MultiPolygon([VILLAGE_B])),
        )
        .returning(m.Village.id),
    )
    grid_ids = tuple(
        _one(
            conn,
            insert(m.Grid)
            .values(
                source_id=f"{PREFIX}grid/{code}",
                village_id=village_a,
                code=code,
                name=f"Grid {code}",
                geom=_geom(MultiPolygon([shape])),
            )
            .returning(m.Grid.id),
        )
        for code, shape in (("WT-A1", GRID_A1), ("WT-A2", GRID_A2))
    )
    leader = _one(
        conn,
        insert(m.Staff)
        .values(
            source_id=f"{PREFIX}staff/leader",
            name="Staff Wang Secret",
            role=v.StaffRole.GRID_LEADER,
            village_id=village_a,
            grid_id=grid_ids[0],
            phone="13800000001",
        )
        .returning(m.Staff.id),
    )
    conn.execute(update(m.Grid).where(m.Grid.id == grid_ids[0]).values(leader_id=leader))
    compound = _one(
        conn,
        insert(m.Compound)
        .values(
            source_id=f"{PREFIX}compound/B",
            name="Riverside Compound",
            kind=v.CompoundKind.RESIDENTIAL,
            closure=v.Closure.SEALED_MANAGED,
            village_id=village_b,
            geom=_geom(COMPOUND_B),
        )
        .returning(m.Compound.id),
    )
    entrances: dict[v.EntranceState, int] = {}
    for state, name, point, owner in (
        (v.EntranceState.OPEN, "West gate", Point(114.3005, 30.5850), {"village_id": village_a}),
        (
            v.EntranceState.CHECKPOINT,
            "East gate",
            Point(114.3095, 30.5850),
            {"village_id": village_a},
        ),
        (
            v.EntranceState.SEALED,
            "Compound gate",
            Point(114.3160, 30.5820),
            {"compound_id": compound},
        ),
    ):
        entrances[state] = _one(
            conn,
            insert(m.Entrance)
            .values(
                source_id=f"{PREFIX}entrance/{name}",
                name=name,
                state=state,
                since=SINCE,
                changed_by="Editor Li Secret",
                geom=_geom(point),
                **owner,
            )
            .returning(m.Entrance.id),
        )
    for name, kind, checkpoint_state, point, village, entrance in (
        (
            XSS_CHECKPOINT,
            v.CheckpointKind.VILLAGE_GATE,
            v.CheckpointState.ACTIVE,
            Point(114.3097, 30.5860),
            village_a,
            entrances[v.EntranceState.CHECKPOINT],
        ),
        (
            "North road checkpoint",
            v.CheckpointKind.ROAD,
            v.CheckpointState.CLOSED,
            Point(114.3200, 30.5885),
            village_b,
            None,
        ),
    ):
        conn.execute(
            insert(m.Checkpoint).values(
                source_id=f"{PREFIX}checkpoint/{kind}",
                name=name,
                kind=kind,
                state=checkpoint_state,
                staff_per_shift=2,
                radius_m=50.0,
                village_id=village,
                entrance_id=entrance,
                geom=_geom(point),
            )
        )
    conn.execute(
        insert(m.Road).values(
            source_id=f"{PREFIX}road/1",
            highway="residential",
            name="Lakeside Road",
            geom=_geom(LineString([(114.298, 30.5875), (114.324, 30.5875)])),
        )
    )
    _scope_personal_tables(conn, grid_ids)
    household = _one(
        conn,
        insert(m.Household)
        .values(
            source_id=f"{PREFIX}household/1",
            grid_id=grid_ids[0],
            members=3,
            status=v.HouseholdStatus.HOME_QUARANTINE,
        )
        .returning(m.Household.id),
    )
    conn.execute(
        insert(m.Resident).values(
            source_id=f"{PREFIX}resident/1",
            household_id=household,
            grid_id=grid_ids[0],
            name="Resident Zhang Secret",
            id_number="320412199001011234",
            phone="13912345678",
        )
    )
    return SmallTown(
        village_a=village_a,
        village_b=village_b,
        grid_ids=grid_ids,
        checkpoint_entrance=entrances[v.EntranceState.CHECKPOINT],
    )


def _scope_personal_tables(conn: Connection, grid_ids: tuple[int, ...]) -> None:
    """Row-level security lets this transaction see and write only these grids' personal rows."""
    conn.execute(
        text("SELECT set_config('wangge.grid_ids', :ids, true)"),
        {"ids": ",".join(str(g) for g in grid_ids)},
    )


@pytest.fixture(scope="module")
def town(throwaway_db: conftest.TestDatabase) -> SmallTown:
    """The test town, committed (the app reads through its own pool) in the module's database."""
    with throwaway_db.owner.begin() as conn:
        return insert_test_town(conn)


@pytest.fixture(scope="module")
def viewer(throwaway_db: conftest.TestDatabase) -> conftest.Account:
    """A town-wide commander whose bearer token the client sends."""
    return conftest.make_account(throwaway_db, "map-viewer", "commander")


@pytest.fixture(scope="module")
def app(throwaway_db: conftest.TestDatabase, town: SmallTown) -> Flask:
    return create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )


@pytest.fixture
def client(app: Flask, viewer: conftest.Account) -> FlaskClient:
    signed_in = app.test_client()
    signed_in.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {viewer.token}"
    return signed_in


def _layer(client: FlaskClient, name: str, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/layers/{name}.geojson{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    collection: dict[str, Any] = orjson.loads(response.get_data())
    return collection


def _by_name(collection: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["name"]: f for f in collection["features"]}


def _signed_area(ring: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2


def _assert_rfc7946(collection: dict[str, Any], geometry_type: str) -> None:
    assert set(collection) == {"type", "features"}  # no legacy `crs` member
    assert collection["type"] == "FeatureCollection"
    ids = [f["id"] for f in collection["features"]]
    assert len(ids) == len(set(ids))
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["id"], int)
        assert isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        assert geometry["type"] == geometry_type
        if geometry_type == "MultiPolygon":
            for polygon in geometry["coordinates"]:
                assert _signed_area(polygon[0]) > 0  # exterior rings counterclockwise
                assert all(_signed_area(hole) < 0 for hole in polygon[1:])
        positions = _positions(geometry["coordinates"])
        assert positions
        for lon, lat in positions:
            assert -180 <= lon <= 180
            assert -90 <= lat <= 90
            assert math.isclose(lon, round(lon, 7))
            assert math.isclose(lat, round(lat, 7))


def _positions(coordinates: Any) -> list[tuple[float, float]]:
    if isinstance(coordinates[0], (int, float)):
        assert len(coordinates) == 2
        return [(coordinates[0], coordinates[1])]
    return [p for part in coordinates for p in _positions(part)]


# -- the layer API ------------------------------------------------------------------------


def test_layer_index_lists_every_layer(client: FlaskClient) -> None:
    response = client.get("/api/layers")
    assert response.status_code == 200
    listed = {layer["name"]: layer for layer in response.get_json()["layers"]}
    assert set(listed) == set(LAYERS)
    assert listed["villages"]["url"] == "/api/layers/villages.geojson"


def test_villages_layer_is_rfc7946_with_counts(client: FlaskClient, town: SmallTown) -> None:
    collection = _layer(client, "villages")
    _assert_rfc7946(collection, "MultiPolygon")
    villages = _by_name(collection)
    a = villages["East Lake Village"]
    assert a["id"] == town.village_a
    assert a["properties"] == {
        "code": "WT-A",
        "name": "East Lake Village",
        "kind": "village",
        "population": 1200,
        "grid_count": 2,
        "entrances_open": 1,
        "entrances_sealed": 0,
        "entrances_checkpoint": 1,
        "checkpoint_count": 1,
    }
    b = villages[XSS_VILLAGE]  # data stays data: escaping is the page's job
    assert b["properties"]["entrances_sealed"] == 1  # through its compound
    assert b["properties"]["population"] is None


def test_grids_layer_names_their_village(client: FlaskClient, town: SmallTown) -> None:
    collection = _layer(client, "grids")
    _assert_rfc7946(collection, "MultiPolygon")
    grids = {f["properties"]["code"]: f for f in collection["features"]}
    assert set(grids) == {"WT-A1", "WT-A2"}
    assert grids["WT-A1"]["properties"]["village"] == "East Lake Village"
    assert {f["id"] for f in collection["features"]} == set(town.grid_ids)


def test_entrances_layer_has_states_and_owners(client: FlaskClient) -> None:
    collection = _layer(client, "entrances")
    _assert_rfc7946(collection, "Point")
    entrances = _by_name(collection)
    assert {name: f["properties"]["state"] for name, f in entrances.items()} == {
        "West gate": "open",
        "East gate": "checkpoint",
        "Compound gate": "sealed",
    }
    gate = entrances["Compound gate"]["properties"]
    assert gate["owner"] == "compound"
    assert gate["compound"] == "Riverside Compound"
    assert gate["village"] == XSS_VILLAGE
    assert datetime.fromisoformat(gate["since"]) == SINCE


def test_checkpoints_layer(client: FlaskClient) -> None:
    collection = _layer(client, "checkpoints")
    _assert_rfc7946(collection, "Point")
    checkpoints = _by_name(collection)
    assert set(checkpoints) == {XSS_CHECKPOINT, "North road checkpoint"}
    gate = checkpoints[XSS_CHECKPOINT]["properties"]
    assert gate["state"] == "active"
    assert gate["kind"] == "village_gate"
    assert gate["entrance"] == "East gate"
    assert gate["staff_per_shift"] == 2
    assert checkpoints["North road checkpoint"]["properties"]["state"] == "closed"


def test_roads_layer(client: FlaskClient) -> None:
    collection = _layer(client, "roads")
    _assert_rfc7946(collection, "LineString")
    assert [f["properties"] for f in collection["features"]] == [
        {"highway": "residential", "name": "Lakeside Road"}
    ]


def test_layers_publish_no_personal_data(client: FlaskClient) -> None:
    for name, source in LAYERS.items():
        response = client.get(f"/api/layers/{name}.geojson")
        body = response.get_data(as_text=True)
        for value in PERSONAL_VALUES:
            assert value not in body, (name, value)
        for feature in orjson.loads(body)["features"]:
            assert set(feature["properties"]) == set(source.property_names)
        assert not PERSONAL_KEYS & set(source.property_names), name


@pytest.mark.parametrize("name", ["residents", "households", "staff", "users", "visits"])
def test_personal_tables_are_not_layers(client: FlaskClient, name: str) -> None:
    response = client.get(f"/api/layers/{name}.geojson")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"


def test_bbox_filters_features(client: FlaskClient) -> None:
    west, south, east, north = VILLAGE_A.bounds
    inside_a = f"?bbox={west + 0.001},{south + 0.001},{east - 0.001},{north - 0.001}"
    assert set(_by_name(_layer(client, "villages", inside_a))) == {"East Lake Village"}
    assert _layer(client, "checkpoints", "?bbox=0,0,1,1")["features"] == []


@pytest.mark.parametrize(
    "bbox",
    ["1,2,3", "a,b,c,d", "nan,0,1,1", "0,0,inf,1", "0,0,1e400,1", "10,0,5,1", "0,-91,1,1", ""],
)
def test_bad_bbox_is_a_clear_400(client: FlaskClient, bbox: str) -> None:
    response = client.get(f"/api/layers/villages.geojson?bbox={bbox}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "Bad Request"
    assert "bbox" in body["message"]


# -- the map page -------------------------------------------------------------------------


class _PageAssets(HTMLParser):
    """The tags of a page that load something, and the nonces of its inline blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_nonces: list[str | None] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "href", "data", "srcset", "poster"):
            value = attributes.get(name)
            if value is not None and tag != "a":
                self.urls.append(value)
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "style" or (tag == "script" and "src" not in attributes):
            self.inline_nonces.append(attributes.get("nonce"))


def _csp(response: Any) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_map_page_loads_only_local_assets(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "http://" not in html
    assert "https://" not in html
    assert remote_asset_urls(html) == []
    page = _PageAssets()
    page.feed(html)
    assert page.urls, "the page links its scripts and stylesheets"
    for url in page.urls:
        assert is_same_origin(url), url
        assert url.startswith("/static/"), url
        with client.get(url) as asset:
            assert asset.status_code == 200, url
    sources = [s["src"] for s in page.scripts if s.get("src")]
    assert sources == [
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
        "/static/map/town-map.js",
    ]
    for unwanted in ("jquery", "bootstrap", "awesome", "fontawesome", "glyphicons"):
        assert unwanted not in html.lower()


def test_map_page_inline_code_carries_the_responses_nonce(client: FlaskClient) -> None:
    response = client.get("/")
    html = response.get_data(as_text=True)
    script_src = _csp(response)["script-src"].split()
    nonces = [s.removeprefix("'nonce-").removesuffix("'") for s in script_src if "nonce" in s]
    assert len(nonces) == 1
    page = _PageAssets()
    page.feed(html)
    assert page.inline_nonces
    assert set(page.inline_nonces) == {nonces[0]}
    assert (
        client.get("/").headers["Content-Security-Policy"]
        != response.headers["Content-Security-Policy"]
    ), "a new nonce for every response"


def test_map_page_names_its_layers_and_legend(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    for name in LAYERS:
        assert f'"/api/layers/{name}.geojson"' in html
    for label in ("Village boundary", "Entrance open", "Entrance sealed", "Checkpoint staffed"):
        assert label in html
    assert "fitBounds" in html  # the view starts on the town
    assert "L.control.layers" in html
    assert "tileLayer" not in html  # no tile server: the layers draw the town
    assert "openstreetmap.org" not in html


def test_map_page_carries_no_database_text(client: FlaskClient) -> None:
    """Names reach the browser only through the API, where town-map.js inserts them as text."""
    html = client.get("/").get_data(as_text=True)
    for name in (XSS_CHECKPOINT, XSS_VILLAGE, "East Lake Village", "alert("):
        assert name not in html


def test_town_map_script_writes_data_as_text_and_credits_osm(client: FlaskClient) -> None:
    with client.get("/static/map/town-map.js") as response:
        script = response.get_data(as_text=True)
    assert '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors' in (
        script.replace("'", '"')
    )
    assert "innerHTML" not in script
    assert "textContent" in script


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/leaflet.css",
        "/static/vendor/leaflet/images/layers.png",
        "/static/vendor/leaflet/images/layers-2x.png",
        "/static/vendor/leaflet/images/marker-icon.png",
        "/static/map/town-map.js",
        "/static/map/town-map.css",
    ],
)
def test_vendored_assets_are_served_with_their_types(client: FlaskClient, path: str) -> None:
    expected = {"js": "javascript", "css": "text/css", "png": "image/png"}[path.rsplit(".", 1)[1]]
    with client.get(path) as response:
        assert response.status_code == 200
        assert expected in (response.mimetype or "")


# -- headers, errors, health --------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/layers",
        "/api/layers/villages.geojson",
        "/healthz",
        "/nowhere",
        "/static/map/town-map.js",
    ],
)
def test_security_headers_on_every_response(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    csp = _csp(response)
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    for directive, sources in csp.items():
        for source in sources.split():
            assert source in ("'self'", "'none'") or source.startswith("'nonce-"), (
                directive,
                source,
            )
    response.close()


def test_api_answers_are_not_cached(client: FlaskClient) -> None:
    assert client.get("/api/layers/villages.geojson").headers["Cache-Control"] == "no-store"
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_not_found_page_is_generic(client: FlaskClient) -> None:
    response = client.get("/nowhere/<script>alert(3)</script>")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "404 Not Found" in body
    assert "alert(3)" not in body
    assert "Traceback" not in body


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.post("/api/layers/villages.geojson")
    assert response.status_code == 405
    assert "GET" in response.allow
    assert response.get_json()["error"] == "Method Not Allowed"


def test_server_errors_are_generic(throwaway_db: conftest.TestDatabase) -> None:
    app = create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )

    def fail() -> str:
        raise RuntimeError("secret detail from deep inside")

    app.add_url_rule("/boom", view_func=public(fail))
    app.add_url_rule("/api/boom", endpoint="api_boom", view_func=fail)
    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    assert page.mimetype == "text/html"
    api = client.get("/api/boom")
    assert api.status_code == 500
    assert api.get_json() == {
        "error": "Internal Server Error",
        "message": "Something went wrong on the server. The error has been logged.",
    }
    for response in (page, api):
        body = response.get_data(as_text=True)
        assert "secret detail" not in body
        assert "Traceback" not in body
        assert "RuntimeError" not in body
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "database": True}


def test_healthz_without_a_database(throwaway_db: conftest.TestDatabase) -> None:
    engine = db.make_engine("postgresql+psycopg://nobody@/nowhere?host=/nonexistent-socket-dir")
    try:
        app = create_app(throwaway_db.settings, engine=engine)
        response = app.test_client().get("/healthz")
        assert response.status_code == 200
        assert response.get_json() == {"ok": True, "database": False}
        layer = app.test_client().get(
            "/api/layers/villages.geojson", headers={"Authorization": "Bearer wgt_any"}
        )
        assert layer.status_code == 503
        assert layer.get_json()["error"] == "Service Unavailable"
    finally:
        engine.dispose()


def test_create_app_builds_its_engine_from_settings(
    throwaway_db: conftest.TestDatabase,
) -> None:
    app = create_app(throwaway_db.settings)
    assert app.test_client().get("/healthz").get_json() == {"ok": True, "database": True}
    with app.app_context():
        engine = database.engine()
        assert engine is not throwaway_db.app
        engine.dispose()


def test_templates_autoescape(app: Flask) -> None:
    """Our page templates write values from the database as text, never as markup."""
    row = {
        "id": 1,
        "grid": XSS_CHECKPOINT,
        "unit": XSS_VILLAGE,
        "room": "<b>3</b>",
        "members": 2,
        "status": "normal",
    }
    with app.test_request_context("/households"):
        page = render_template("households.html", rows=[row], who=SimpleNamespace(name="<i>w</i>"))
        error = render_template("error.html", status=400, title=XSS_VILLAGE, message="<b>m</b>")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "&lt;b&gt;3&lt;/b&gt;" in page
    assert "&lt;i&gt;w&lt;/i&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in error
    assert "&lt;b&gt;m&lt;/b&gt;" in error
    for html in (page, error):
        for markup in ("<img src=x", "<script>alert", "<b>3", "<b>m", "<i>w"):
            assert markup not in html


# -- the sample town (read-only) ----------------------------------------------------------


def test_sample_town_layers(throwaway_sample_db: conftest.TestDatabase) -> None:
    account = conftest.make_account(throwaway_sample_db, "layers-viewer", "commander")
    client = create_app(
        throwaway_sample_db.settings,
        engine=throwaway_sample_db.app,
        admin_engine=throwaway_sample_db.owner,
    ).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {account.token}"
    _check_sample_layers(client)


def _check_sample_layers(client: FlaskClient) -> None:
    expected_types = {
        "villages": "MultiPolygon",
        "grids": "MultiPolygon",
        "entrances": "Point",
        "checkpoints": "Point",
    }
    for name, geometry_type in expected_types.items():
        collection = _layer(client, name)
        assert collection["features"], f"the sample town has {name}"
        _assert_rfc7946(collection, geometry_type)
        for feature in collection["features"]:
            assert set(feature["properties"]) == set(LAYERS[name].property_names)
    states = {f["properties"]["state"] for f in _layer(client, "entrances")["features"]}
    assert states <= {"open", "sealed", "checkpoint"}
    page = client.get("/")
    assert page.status_code == 200
    assert "fitBounds" in page.get_data(as_text=True)
