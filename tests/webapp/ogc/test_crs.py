"""OGC API - Features Part 2 under /ogc: features in CRS84, EPSG:4326 (latitude first),
EPSG:3857 and the town's UTM zone (`crs`), a bbox in any of them (`bbox-crs`), the
`Content-Crs` header, the CRSs each collection lists; and the landing page at /ogc/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from pyproj import Transformer

from tests import conftest
from webapp import create_app

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
UTM = 32632
"""The sample town (Liechtenstein) lies in UTM zone 32 north."""
ITEMS = "/ogc/collections/buildings/items"


@dataclass(frozen=True)
class Town:
    app: Flask
    token: str


@pytest.fixture(scope="module")
def town(throwaway_sample_db: conftest.TestDatabase) -> Town:
    database = throwaway_sample_db
    account = conftest.make_account(database, "crs-admin", "admin")
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return Town(app, account.token)


def get(town: Town, url: str) -> Any:
    return town.app.test_client().get(url, headers={"Authorization": f"Bearer {town.token}"})


def points(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    """Every position of a GeoJSON geometry, in order."""
    found: list[tuple[float, float]] = []

    def walk(value: Any) -> None:
        if isinstance(value[0], int | float):
            found.append((float(value[0]), float(value[1])))
        else:
            for part in value:
                walk(part)

    walk(geometry["coordinates"])
    return found


def first_page(town: Town, query: str) -> tuple[Any, dict[Any, list[tuple[float, float]]]]:
    response = get(town, f"{ITEMS}?limit=20&{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, {f["id"]: points(f["geometry"]) for f in response.get_json()["features"]}


def moved(positions: list[tuple[float, float]], epsg: int) -> list[tuple[float, float]]:
    to = Transformer.from_crs(4326, epsg, always_xy=True)
    return [to.transform(x, y) for x, y in positions]


def close(a: list[tuple[float, float]], b: list[tuple[float, float]], tolerance: float) -> bool:
    return len(a) == len(b) and all(
        abs(p[0] - q[0]) <= tolerance and abs(p[1] - q[1]) <= tolerance
        for p, q in zip(a, b, strict=True)
    )


def test_landing_page_at_root_with_and_without_slash(town: Town) -> None:
    for url in ("/ogc", "/ogc/"):
        response = get(town, url)
        assert response.status_code == 200, url
        rels = {link["rel"] for link in response.get_json()["links"]}
        assert {"self", "service-desc", "conformance", "data"} <= rels, url


def test_conformance_lists_crs_by_reference(town: Town) -> None:
    classes = get(town, "/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes


def test_collections_list_their_crs(town: Town) -> None:
    wanted = [CRS84, f"{EPSG}4326", f"{EPSG}3857", f"{EPSG}{UTM}"]
    doc = get(town, "/ogc/collections").get_json()
    assert doc["crs"] == wanted
    for c in doc["collections"]:
        assert c["crs"] == wanted, c["id"]
        assert c["storageCrs"] == CRS84, c["id"]
    one = get(town, "/ogc/collections/buildings").get_json()
    assert one["crs"] == wanted
    api = get(town, "/ogc/api").get_json()
    items = api["paths"]["/collections/{collectionId}/items"]["get"]
    names = {p["name"] for p in items["parameters"]}
    assert {"crs", "bbox-crs"} <= names
    item = api["paths"]["/collections/{collectionId}/items/{featureId}"]["get"]
    assert "crs" in {p["name"] for p in item["parameters"]}


def test_default_is_crs84_and_says_so(town: Town) -> None:
    response, features = first_page(town, "")
    assert response.headers["Content-Crs"] == f"<{CRS84}>"
    for positions in features.values():
        for lon, lat in positions:
            assert 9.4 < lon < 9.7  # Liechtenstein, longitude first
            assert 47.0 < lat < 47.3


@pytest.mark.parametrize("epsg", [3857, UTM])
def test_crs_in_metres(town: Town, epsg: int) -> None:
    _, lon_lat = first_page(town, "")
    for name in (f"{EPSG}{epsg}", f"EPSG:{epsg}", f"[EPSG:{epsg}]"):
        response, metres = first_page(town, f"crs={name}")
        assert response.headers["Content-Crs"] == f"<{EPSG}{epsg}>"
        assert metres.keys() == lon_lat.keys()
        for fid, positions in metres.items():
            assert close(positions, moved(lon_lat[fid], epsg), 0.05), fid


def test_epsg_4326_is_latitude_first(town: Town) -> None:
    _, lon_lat = first_page(town, "")
    response, lat_lon = first_page(town, f"crs={EPSG}4326")
    assert response.headers["Content-Crs"] == f"<{EPSG}4326>"
    assert lat_lon.keys() == lon_lat.keys()
    for fid, positions in lat_lon.items():
        assert positions == [(y, x) for x, y in lon_lat[fid]], fid


def test_one_feature_in_a_crs(town: Town) -> None:
    _, lon_lat = first_page(town, "")
    fid, positions = next(iter(lon_lat.items()))
    response = get(town, f"{ITEMS}/{fid}?crs={EPSG}3857")
    assert response.status_code == 200
    assert response.headers["Content-Crs"] == f"<{EPSG}3857>"
    assert close(points(response.get_json()["geometry"]), moved(positions, 3857), 0.05)
    assert get(town, f"{ITEMS}/{fid}").headers["Content-Crs"] == f"<{CRS84}>"


@pytest.mark.parametrize(
    "collection", ["households-by-hex", "households-by-grid", "coverage-by-village"]
)
def test_aggregates_in_a_crs(town: Town, collection: str) -> None:
    url = f"/ogc/collections/{collection}/items?limit=5"
    lon_lat = get(town, url).get_json()["features"]
    assert lon_lat
    response = get(town, f"{url}&crs={EPSG}3857")
    assert response.headers["Content-Crs"] == f"<{EPSG}3857>"
    metres = response.get_json()["features"]
    assert [f["id"] for f in metres] == [f["id"] for f in lon_lat]
    for a, b in zip(metres, lon_lat, strict=True):
        assert close(points(a["geometry"]), moved(points(b["geometry"]), 3857), 0.05), a["id"]


def ids(town: Town, query: str) -> set[Any]:
    response = get(town, f"{ITEMS}?limit=10000&{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return {f["id"] for f in response.get_json()["features"]}


def test_bbox_in_another_crs_selects_the_same_features(town: Town) -> None:
    west, south, east, north = 9.50, 47.10, 9.53, 47.14
    in_crs84 = ids(town, f"bbox={west},{south},{east},{north}")
    assert 0 < len(in_crs84) < len(ids(town, ""))
    (x0, y0), (x1, y1) = moved([(west, south), (east, north)], 3857)
    in_mercator = ids(town, f"bbox={x0},{y0},{x1},{y1}&bbox-crs={EPSG}3857")
    assert in_mercator == in_crs84
    lat_lon = ids(town, f"bbox={south},{west},{north},{east}&bbox-crs={EPSG}4326")
    assert lat_lon == in_crs84
    explicit = ids(town, f"bbox={west},{south},{east},{north}&bbox-crs={CRS84}")
    assert explicit == in_crs84


def test_unsupported_crs_is_refused(town: Town) -> None:
    for query in (
        "crs=EPSG:2056",
        f"crs={EPSG}4979",
        "crs=http://example.com/crs",
        "bbox=0,0,1,1&bbox-crs=EPSG:2056",
        f"bbox=1e30,1e30,2e30,2e30&bbox-crs={EPSG}{UTM}",
        f"bbox=47.1,9.5,47.2&bbox-crs={EPSG}4326",
    ):
        response = get(town, f"{ITEMS}?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["code"]
    assert get(town, f"{ITEMS}/1?crs=EPSG:2056").status_code == 400
