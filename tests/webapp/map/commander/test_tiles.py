"""The commanders' vector tiles: counts without names, the outlines they draw, a grid
worker's scope, revalidation, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from geodata.maps import tiles as map_tiles
from tests import conftest
from tests.webapp.map.commander_town import TOWN_TILE, CommanderTown, client_for, serve_town
from tests.webapp.map.vector_tiles import decode_tile, tile_of
from webapp.tiles import views as tiles


def _tile(client: FlaskClient, layer: str, zxy: tuple[int, int, int] = TOWN_TILE) -> Any:
    z, x, y = zxy
    return client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf")


# -- tiles -------------------------------------------------------------------------------


def test_household_tiles_count_per_building_without_names(
    app: Flask, accounts: dict[str, conftest.Account], town: CommanderTown
) -> None:
    response = _tile(client_for(app, accounts["commander"]), "households")
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
    worker = client_for(app, accounts["worker"])
    for zxy in (TOWN_TILE, tile_of(114.305, 30.5842, 16), tile_of(114.305, 30.5842, 13)):
        households = decode_tile(_tile(worker, "households", zxy).get_data()).get("households", [])
        total = sum(int(str(f["households"])) for f in households)
        assert total == 2, (zxy, households)  # grid A1's building only, never grid A2's 3
        ids = {f.get("building_id") for f in households} - {None}
        assert town.buildings[1] not in ids
    buildings = decode_tile(_tile(worker, "buildings").get_data())["buildings"]
    assert [f["floors"] for f in buildings] == [6]
    commander = decode_tile(_tile(client_for(app, accounts["commander"]), "buildings").get_data())
    assert len(commander["buildings"]) == 2


def test_tiles_revalidate_and_change_with_the_data(own_db: conftest.TestDatabase) -> None:
    served = serve_town(own_db)  # this test changes the town
    client = client_for(served.app, served.accounts["commander"])
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
    assert client_for(app, accounts["commander"]).get(path).status_code == 404


def test_tiles_need_a_signed_in_user(app: Flask) -> None:
    z, x, y = TOWN_TILE
    response = app.test_client().get(f"/tiles/households/{z}/{x}/{y}.pbf")
    assert response.status_code == 302  # to the login page, as every page
    assert "/login" in response.headers["Location"]
    assert response.mimetype != tiles.MVT_MEDIA_TYPE


def test_low_zoom_building_tiles_are_empty(
    app: Flask, accounts: dict[str, conftest.Account]
) -> None:
    response = _tile(
        client_for(app, accounts["commander"]), "buildings", tile_of(114.305, 30.58, 10)
    )
    assert response.status_code == 200
    assert response.get_data() == b""
