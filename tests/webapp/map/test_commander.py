"""The commanders' map: vector tiles (scope, caching), replayed layers, languages, the page.

The browser tests drive /usr/bin/chromium through Playwright, signed in through the login
form; screenshots go to screenshots/commander-*.png.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from shapely import box
from sqlalchemy import Connection, insert, text

from geodata import models as m
from geodata import vocab
from geodata.maps import tiles as map_tiles
from tests import conftest
from tests.live_server import serving
from tests.paths import SCREENSHOTS
from tests.webapp.map.test_browser import assert_stayed_local, tooltip_after_hovering, visit
from tests.webapp.small_town_data import XSS_CHECKPOINT, SmallTown, insert_test_town
from webapp import create_app
from webapp.map.style import TOWN_LAYERS
from webapp.tiles import views as tiles

PREFIX = "commander-test:"
BUILDING_A1 = box(114.3020, 30.5840, 114.3024, 30.5844)
BUILDING_A2 = box(114.3070, 30.5840, 114.3074, 30.5844)
PAGE_LIMIT_BYTES = 300 * 1024


# -- a minimal Mapbox vector tile reader (protobuf wire format) ----------------------------


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            length, at = _varint(data, at)
            value, at = data[at : at + length], at + length
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def _value(data: bytes) -> object:
    for number, _, value in _fields(data):
        if number == 1:
            return bytes(value).decode()
        if number in (4, 5):
            return int(value)
        if number == 6:
            return (int(value) >> 1) ^ -(int(value) & 1)
        if number == 7:
            return bool(value)
    return None


def decode_tile(data: bytes) -> dict[str, list[dict[str, object]]]:
    """Layer name -> each feature's properties."""
    layers: dict[str, list[dict[str, object]]] = {}
    for number, _, layer in _fields(data):
        if number != 3:
            continue
        name, keys, values, features = "", [], [], []
        for n, _, v in _fields(layer):
            if n == 1:
                name = bytes(v).decode()
            elif n == 3:
                keys.append(bytes(v).decode())
            elif n == 4:
                values.append(_value(v))
            elif n == 2:
                features.append(v)
        decoded = []
        for feature in features:
            tags: list[int] = []
            for n, _, v in _fields(feature):
                if n == 2:
                    at = 0
                    while at < len(v):
                        tag, at = _varint(v, at)
                        tags.append(tag)
            decoded.append({keys[k]: values[t] for k, t in zip(tags[::2], tags[1::2], strict=True)})
        layers[name] = decoded
    return layers


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


# -- the town: the small test town, a building with households in each of two grids -------


@dataclass(frozen=True)
class CommanderTown:
    town: SmallTown
    buildings: tuple[int, int]


def _scope(conn: Connection, grid_ids: tuple[int, ...]) -> None:
    conn.execute(
        text("SELECT set_config('wangge.grid_ids', :ids, true)"),
        {"ids": ",".join(str(g) for g in grid_ids)},
    )


def insert_buildings(conn: Connection, town: SmallTown) -> tuple[int, int]:
    _scope(conn, town.grid_ids)
    ids = []
    for grid_id, shape, households in (
        (town.grid_ids[0], BUILDING_A1, 2),
        (town.grid_ids[1], BUILDING_A2, 3),
    ):
        building = conn.execute(
            insert(m.Building)
            .values(
                source_id=f"{PREFIX}building/{grid_id}",
                name=f"Building of grid {grid_id}",
                floors=6,
                grid_id=grid_id,
                geom=text(f"ST_GeomFromText('{shape.wkt}', 4326)"),
            )
            .returning(m.Building.id)
        ).scalar_one()
        ids.append(int(building))
        for n in range(households):
            conn.execute(
                insert(m.Household).values(
                    source_id=f"{PREFIX}household/{grid_id}/{n}",
                    building_id=building,
                    grid_id=grid_id,
                    members=2,
                    status=vocab.HouseholdStatus.NORMAL,
                )
            )
    return ids[0], ids[1]


@dataclass(frozen=True)
class Served:
    """The commander town committed to a database, its accounts and the app over it."""

    town: CommanderTown
    accounts: dict[str, conftest.Account]
    app: Flask


def serve_town(database: conftest.TestDatabase) -> Served:
    with database.owner.begin() as conn:
        small = insert_test_town(conn)
        buildings = insert_buildings(conn, small)
    accounts = {
        "commander": conftest.make_account(database, "cmd-commander", "commander"),
        "worker": conftest.make_account(
            database, "cmd-worker", "grid_worker", grid_codes=("WT-A1",)
        ),
    }
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return Served(CommanderTown(small, buildings), accounts, app)


@pytest.fixture(scope="module")
def served(throwaway_db: conftest.TestDatabase) -> Served:
    """The town in the module's own database, which every test here only reads."""
    return serve_town(throwaway_db)


@pytest.fixture(scope="module")
def town(served: Served) -> CommanderTown:
    return served.town


@pytest.fixture(scope="module")
def accounts(served: Served) -> dict[str, conftest.Account]:
    return served.accounts


@pytest.fixture(scope="module")
def app(served: Served) -> Flask:
    return served.app


def _client(app: Flask, account: conftest.Account) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {account.token}"
    return client


@pytest.fixture(autouse=True)
def fresh_tiles() -> Iterator[None]:
    tiles.cache.clear()
    yield
    tiles.cache.clear()


TOWN_TILE = tile_of(114.305, 30.5842, 15)


def _tile(client: FlaskClient, layer: str, zxy: tuple[int, int, int] = TOWN_TILE) -> Any:
    z, x, y = zxy
    return client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf")


# -- tiles -------------------------------------------------------------------------------


def test_household_tiles_count_per_building_without_names(
    app: Flask, accounts: dict[str, conftest.Account], town: CommanderTown
) -> None:
    response = _tile(_client(app, accounts["commander"]), "households")
    assert response.status_code == 200
    assert response.mimetype == tiles.MVT_MEDIA_TYPE
    features = decode_tile(response.get_data())["households"]
    by_building = {f["building_id"]: f for f in features}
    assert set(by_building) == set(town.buildings)
    assert by_building[town.buildings[0]]["households"] == 2
    assert by_building[town.buildings[1]]["households"] == 3
    assert by_building[town.buildings[1]]["never_visited"] == 3
    for feature in features:
        assert set(feature) == {"building_id", "households", "never_visited", "unscreened"}


@pytest.mark.parametrize("z", [11, 14, 16])
def test_tiles_draw_what_the_mercator_outlines_hold(sample_conn: Connection, z: int) -> None:
    """Candidates found through the lon/lat index draw, in every tile over the sample town,
    the same buildings as a filter on the Web Mercator outlines themselves (box filters
    differ only by outlines that miss the tile, which the encoder drops)."""
    drawn = f"""
        SELECT t.x, t.y, array_agg(b.id ORDER BY b.id) AS ids
        FROM (SELECT DISTINCT
                floor((ST_X(c) + 20037508.342789244) / (40075016.68557849 / 2 ^ :z))::int AS x,
                floor((20037508.342789244 - ST_Y(c)) / (40075016.68557849 / 2 ^ :z))::int AS y
              FROM (SELECT ST_Centroid(geom_3857) AS c FROM buildings) AS p) AS t
        JOIN buildings AS b ON {{}}
        WHERE ST_AsMVTGeom(b.geom_3857, ST_TileEnvelope(:z, t.x, t.y),
                           {map_tiles.EXTENT}, {map_tiles.BUFFER}, true) IS NOT NULL
        GROUP BY t.x, t.y ORDER BY t.x, t.y
    """  # noqa: S608 (the tile extent and buffer are constants of geodata.maps.tiles)
    margin = map_tiles.BUFFER / map_tiles.EXTENT
    mercator = f"ST_Intersects(b.geom_3857, ST_TileEnvelope(:z, t.x, t.y, margin => {margin}))"
    lonlat = map_tiles._tile_candidates("b").replace(":x", "t.x").replace(":y", "t.y")
    expected = sample_conn.execute(text(drawn.format(mercator)), {"z": z}).all()
    found = sample_conn.execute(text(drawn.format(lonlat)), {"z": z}).all()
    assert len(expected) >= (3 if z >= 14 else 1)
    assert sum(len(r.ids) for r in expected) >= 3719
    assert found == expected


def test_a_grid_workers_tiles_hold_nothing_of_other_grids(
    app: Flask, accounts: dict[str, conftest.Account], town: CommanderTown
) -> None:
    worker = _client(app, accounts["worker"])
    for zxy in (TOWN_TILE, tile_of(114.305, 30.5842, 16), tile_of(114.305, 30.5842, 13)):
        households = decode_tile(_tile(worker, "households", zxy).get_data()).get("households", [])
        total = sum(int(str(f["households"])) for f in households)
        assert total == 2, (zxy, households)  # grid A1's building only, never grid A2's 3
        ids = {f.get("building_id") for f in households} - {None}
        assert town.buildings[1] not in ids
    buildings = decode_tile(_tile(worker, "buildings").get_data())["buildings"]
    assert [f["floors"] for f in buildings] == [6]
    commander = decode_tile(_tile(_client(app, accounts["commander"]), "buildings").get_data())
    assert len(commander["buildings"]) == 2


def test_tiles_revalidate_and_change_with_the_data(own_db: conftest.TestDatabase) -> None:
    served = serve_town(own_db)  # this test changes the town
    client = _client(served.app, served.accounts["commander"])
    first = _tile(client, "buildings")
    etag = first.headers["ETag"]
    assert "no-cache" in first.headers["Cache-Control"]
    assert "private" in first.headers["Cache-Control"]
    again = client.get(first.request.path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    with own_db.owner.begin() as conn:
        conn.execute(
            text("UPDATE buildings SET floors = 7, updated_at = now() WHERE id = :id"),
            {"id": served.town.buildings[0]},
        )
    tiles.cache.clear()  # the data version is re-read at most every VERSION_TTL_S
    changed = client.get(first.request.path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    floors = {f["floors"] for f in decode_tile(changed.get_data())["buildings"]}
    assert 7 in floors


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/residents/15/0/0.pbf",
        "/tiles/buildings/23/0/0.pbf",
        "/tiles/buildings/3/8/0.pbf",
        "/tiles/buildings/3/0/8.pbf",
    ],
)
def test_bad_tiles_are_404(app: Flask, accounts: dict[str, conftest.Account], path: str) -> None:
    assert _client(app, accounts["commander"]).get(path).status_code == 404


def test_tiles_need_a_signed_in_user(app: Flask) -> None:
    z, x, y = TOWN_TILE
    response = app.test_client().get(f"/tiles/households/{z}/{x}/{y}.pbf")
    assert response.status_code == 302  # to the login page, as every page
    assert "/login" in response.headers["Location"]
    assert response.mimetype != tiles.MVT_MEDIA_TYPE


def test_low_zoom_building_tiles_are_empty(
    app: Flask, accounts: dict[str, conftest.Account]
) -> None:
    response = _tile(_client(app, accounts["commander"]), "buildings", tile_of(114.305, 30.58, 10))
    assert response.status_code == 200
    assert response.get_data() == b""


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
    client = _client(served.app, served.accounts["commander"])
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
    compounds = _layer(_client(app, accounts["commander"]), "compounds")["features"]
    assert len(compounds) == 1
    # Its only entrance is sealed: no open entrance at all, a safety fault.
    assert compounds[0]["properties"]["compliance"] == "no_open_entrance"
    assert compounds[0]["properties"]["sealed_entrances"] == 1


def test_checkpoints_show_staffing_and_entrances_replay_a_day(
    app: Flask, accounts: dict[str, conftest.Account]
) -> None:
    client = _client(app, accounts["commander"])
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
    client = _client(app, accounts["commander"])
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
    html = _client(served.app, served.accounts["commander"]).get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html


# -- in the browser ----------------------------------------------------------------------


def until(page: Any, expression: str, *, timeout_s: float = 10.0) -> None:
    """Poll `expression` from outside the page (the page's CSP forbids eval inside it)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {expression}")
        page.wait_for_timeout(50)


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"commander-{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000


def test_commander_map_in_the_browser(
    app: Flask, accounts: dict[str, conftest.Account], tmp_path: Path
) -> None:
    with serving(app) as base, visit(base, accounts["commander"]) as (page, record):
        until(page, "document.documentElement.dataset.coverageLoaded === 'true'")
        page.wait_for_selector(
            ".leaflet-households-tiles-pane path, .leaflet-town-households-tiles-pane path"
        )
        assert_stayed_local(record, page)
        assert page.locator(".entrance-marker").count() == 3
        assert page.locator(".checkpoint-ring").count() == 1  # the active one; the closed has none
        assert page.locator(".village-label").count() == 2
        _shot(page, "overview")

        # The XSS name stays text, in the tooltip and in the search results.
        texts = [
            tooltip_after_hovering(page, ".checkpoint-marker", i)
            for i in range(page.locator(".checkpoint-marker").count())
        ]
        assert any(XSS_CHECKPOINT in t for t in texts), texts
        page.fill(".search-control input", "<img")
        results = page.locator(".search-results button")
        assert results.count() == 1
        assert XSS_CHECKPOINT in results.first.inner_text()
        results.first.click()
        _shot(page, "search")
        page.fill(".search-control input", "WT-A1")
        assert "WT-A1" in page.locator(".search-results").inner_text()
        page.fill(".search-control input", "")

        # Layers toggle: patrol zones and leaks on (fetched then), villages off.
        overlays = page.locator(".leaflet-control-layers-overlays label")
        with page.expect_response(lambda r: "/api/v1/coverage" in r.url and "list=1" in r.url):
            overlays.filter(has_text="Leaks").locator("input").check()
        with page.expect_response(lambda r: "/api/layers/patrol_zones.geojson" in r.url):
            overlays.filter(has_text="Patrol zones").locator("input").check()
        overlays.filter(has_text="Villages").locator("input").uncheck()
        assert page.locator(".leaflet-town-villages-pane path").count() == 0
        # Labels fade out (Leaflet removes them after 200 ms).
        until(page, "document.querySelectorAll('.village-label').length === 0")
        overlays.filter(has_text="Villages").locator("input").check()
        page.wait_for_selector(".leaflet-town-villages-pane path.leaflet-interactive")

        # Reach instead of screening, then a past day replayed.
        page.locator(".colour-by-control input[value=reach]").check()
        with page.expect_response(lambda r: "as_of=2026-01-31" in r.url and "entrances" in r.url):
            page.fill(".as-of-control input", "2026-01-31")
            page.locator(".as-of-control input").dispatch_event("change")
        until(page, "document.querySelectorAll('.entrance-marker').length === 0")
        _shot(page, "replay")

        page.wait_for_load_state("networkidle")
        assert_stayed_local(record, page)
        assert page.locator("img[src='x']").count() == 0


def test_commander_map_in_chinese(app: Flask, accounts: dict[str, conftest.Account]) -> None:
    with serving(app) as base, visit(base, accounts["commander"]) as (page, record):
        page.goto(base + "/?lang=zh_CN", wait_until="networkidle")
        until(page, "document.documentElement.dataset.coverageLoaded === 'true'")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        overlays = page.locator(".leaflet-control-layers-overlays").inner_text()
        assert "网格" in overlays
        assert "卡点" in overlays
        assert "图例" in page.locator(".map-legend").inner_text()
        _shot(page, "zh")
        assert_stayed_local(record, page)
        # The choice is kept in the session.
        page.goto(base + "/", wait_until="networkidle")
        assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_layer_show_defaults_match_the_fetches(
    app: Flask, accounts: dict[str, conftest.Account]
) -> None:
    """On load the page fetches exactly the layers shown by default; a hidden one waits until
    it is switched on."""
    shown = {layer.source for layer in TOWN_LAYERS if layer.show}
    assert {"villages", "grids", "checkpoints", "entrances", "compounds"} <= shown
    assert "patrol_zones" not in shown
    with serving(app) as base, visit(base, accounts["commander"]) as (page, record):
        page.wait_for_load_state("networkidle")
        paths = {url.removeprefix(base).split("?")[0] for url in record.requests}
        fetched = {
            p.removeprefix("/api/layers/").removesuffix(".geojson")
            for p in paths
            if p.startswith("/api/layers/")
        }
        assert fetched == shown
        checked = page.locator(".leaflet-control-layers-overlays input:checked")
        assert checked.count() == len(shown) + 2  # and the building and household tiles


def test_the_browser_language_decides_and_the_switch_is_kept(
    own_db: conftest.TestDatabase,
) -> None:
    served = serve_town(own_db)  # a town with English names: English by default
    client = _client(served.app, served.accounts["commander"])
    asked = {"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"}

    def lang(headers: dict[str, str]) -> str:
        html = client.get("/", headers=headers).get_data(as_text=True)
        return html.split('<html lang="', 1)[1].split('"', 1)[0]

    assert lang(asked) == "zh-CN"
    assert lang({"Accept-Language": "fr, en-GB;q=0.8"}) == "en"
    assert lang({"Accept-Language": "fr"}) == "en"  # none spoken: the town's
    # a signed-in user's switch outlasts the browser's wish
    signed_in = served.app.test_client()
    signed_in.post(
        "/login",
        data={"username": served.accounts["commander"].username,
              "password": served.accounts["commander"].password,
              "csrf_token": _login_token(signed_in)},
    )  # fmt: skip
    signed_in.get("/?lang=en", headers=asked)
    assert '<html lang="en">' in signed_in.get("/", headers=asked).get_data(as_text=True)


def _login_token(client: FlaskClient) -> str:
    import re

    found = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    )
    assert found
    return found.group(1)
