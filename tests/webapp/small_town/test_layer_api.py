"""The layer API on the small town (RFC 7946, counts, no personal data, bbox) and on the
sample town."""

from __future__ import annotations

import itertools
import math
from datetime import datetime
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from geodata.maps.layers import LAYERS
from tests import conftest
from tests.webapp.small_town_data import (
    PERSONAL_KEYS,
    PERSONAL_VALUES,
    SINCE,
    VILLAGE_A,
    XSS_CHECKPOINT,
    XSS_VILLAGE,
    SmallTown,
)
from webapp import create_app


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
