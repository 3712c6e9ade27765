"""The Chinese datums (GCJ-02, BD-09) and the real Chinese and OSM files read as they are."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from geodata.imports import datum, files
from geodata.imports.readers import read_layer
from geodata.imports.report import Datum, Issue, ReadOptions
from tests.geodata.imports.reader_support import (
    OSM_GPKG,
    OSM_PBF,
    SQUARE,
    SUZHOU,
    ZHAOQING,
    collection,
    feature,
    polygon,
    refused,
    write,
)

# --- datums ------------------------------------------------------------------------------------


def test_gcj02_published_control_points() -> None:
    # wandergis/coordtransform's published examples
    lon, lat = datum.wgs84_to_gcj02(116.404, 39.915)
    assert (lon[0], lat[0]) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-9)
    lon, lat = datum.gcj02_to_wgs84(116.41024449916938, 39.91640428150164)
    assert (lon[0], lat[0]) == pytest.approx((116.404, 39.915), abs=5e-6)
    gcj_lon, gcj_lat = datum.gcj02_to_wgs84(116.404, 39.915)  # sanity: inverse of a GCJ point
    bd_lon, bd_lat = datum.wgs84_to_bd09(gcj_lon, gcj_lat)
    assert (bd_lon[0], bd_lat[0]) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-9
    )


def _metres(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    return np.hypot((lon1 - lon2) * np.cos(np.radians(lat1)), lat1 - lat2) * 111_320.0


def test_round_trips_and_offset_size() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(98.0, 123.0, 1000)
    lat = rng.uniform(21.0, 45.0, 1000)
    glon, glat = datum.wgs84_to_gcj02(lon, lat)
    offset = _metres(lon, lat, glon, glat)
    # 100-700 m in most places; smaller near the transform's own zero lines.
    assert 100 < np.median(offset) < 700
    assert offset.max() < 700
    assert _metres(lon, lat, *datum.gcj02_to_wgs84(glon, glat)).max() < 0.5
    assert _metres(lon, lat, *datum.bd09_to_wgs84(*datum.wgs84_to_bd09(lon, lat))).max() < 0.5


def test_chinese_datum_outside_china_isrefused(tmp_path: Path) -> None:
    with pytest.raises(datum.OutsideChinaError):
        datum.gcj02_to_wgs84(9.52, 47.14)
    features = [
        feature({"type": "Point", "coordinates": [9.52, 47.14]}),  # Vaduz, Liechtenstein
        feature({"type": "Point", "coordinates": [120.6, 31.3]}),
    ]
    path = write(tmp_path, "li.geojson", json.dumps(collection(*features)))
    raw = read_layer(path, ReadOptions(datum=Datum.GCJ02), expect_geometry=True)
    assert raw.errors == [
        Issue(
            reason="outside China's extent: the gcj02 datum is defined only in China",
            feature=0,
            field="geometry",
        )
    ]
    assert raw.frame.geometry.iloc[0] is None
    lon, lat = datum.gcj02_to_wgs84(120.6, 31.3)
    assert raw.frame.geometry.iloc[1].coords[0] == pytest.approx((lon[0], lat[0]))


# --- the real files ----------------------------------------------------------------------------


def test_zhaoqing_compounds_legacy_crs_and_gcj02() -> None:
    reason = refused(ZHAOQING)
    assert reason.startswith("legacy crs member names EPSG:32650")
    plain = read_layer(ZHAOQING, ReadOptions(crs="EPSG:32650"), expect_geometry=True)
    raw = read_layer(
        ZHAOQING, ReadOptions(crs="EPSG:32650", datum=Datum.GCJ02), expect_geometry=True
    )
    assert raw.errors == []
    assert len(raw.frame) == 1187
    assert raw.frame["name"].iloc[0] == "封开碧桂园"
    centres = shapely.centroid(raw.frame.geometry.to_numpy())
    lon, lat = shapely.get_x(centres), shapely.get_y(centres)
    # The whole prefecture, and most compounds in the city proper.
    assert ((lon > 111.3) & (lon < 113.0) & (lat > 22.7) & (lat < 24.5)).all()
    assert 112.3 < np.median(lon) < 112.8
    assert 22.9 < np.median(lat) < 23.3
    shift = _metres(
        lon,
        lat,
        shapely.get_x(shapely.centroid(plain.frame.geometry.to_numpy())),
        shapely.get_y(shapely.centroid(plain.frame.geometry.to_numpy())),
    )
    assert 400 < np.median(shift) < 700


def test_suzhou_buildings_land_in_suzhou() -> None:
    raw = read_layer(SUZHOU, ReadOptions(), expect_geometry=True)
    assert raw.errors == []
    assert len(raw.frame) == 3076
    minx, miny, maxx, maxy = raw.frame.total_bounds
    assert 120.5 < minx < maxx < 120.7
    assert 31.2 < miny < maxy < 31.4
    assert raw.frame["Floor"].between(1, 28).all()


def test_osm_pbf_layers() -> None:
    polygons = read_layer(OSM_PBF, ReadOptions(), expect_geometry=True, geometry_type="Polygon")
    assert len(polygons.frame) == 4104
    assert polygons.frame["building"].notna().sum() == 3723
    lines = read_layer(OSM_PBF, ReadOptions(layer_name="lines"), expect_geometry=True)
    assert len(lines.frame) == 3014
    assert (
        refused(OSM_PBF)
        == "an OSM extract needs --layer points|lines|multilinestrings|multipolygons"
    )


def test_geopackage_layers() -> None:
    raw = read_layer(OSM_GPKG, ReadOptions(layer_name="buildings"), expect_geometry=True)
    assert len(raw.frame) == 3723
    assert raw.errors == []
    assert refused(OSM_GPKG).startswith("the GeoPackage holds several layers (buildings, roads")
    assert refused(OSM_GPKG, ReadOptions(layer_name="buildings", crs="EPSG:32632")) == (
        "--crs EPSG:32632 contradicts the GeoPackage's CRS (EPSG:4326)"
    )


def test_osm_pbf_is_known_by_its_header(tmp_path: Path) -> None:
    head = OSM_PBF.read_bytes()[: files.SNIFF_BYTES]
    assert files.is_osm_pbf(head)
    assert files.detect_format(write(tmp_path, "town.pbf", head)) is files.FileFormat.OSM_PBF
    # A PBF whose first blob is data, not the header block; a header past the length limit.
    data_first = head[:4] + b"\x0a\x07OSMData" + head[15:]
    too_long = struct.pack(">I", 64 * 1024) + head[4:]
    for name, content in (("data.pbf", data_first), ("long.pbf", too_long)):
        assert not files.is_osm_pbf(content)
        assert refused(write(tmp_path, name, content)).startswith("disguised format: ")


def test_polygon_helper_is_read_back_as_written(tmp_path: Path) -> None:
    """The square every test here writes is a closed ring, read back with the same positions."""
    path = write(tmp_path, "square.geojson", json.dumps(collection(polygon())))
    raw = read_layer(path, ReadOptions(), expect_geometry=True)
    assert raw.errors == []
    (read,) = raw.frame.geometry
    assert read.is_valid
    assert read.exterior.is_closed
    assert [list(p) for p in read.exterior.coords] == SQUARE[0]
    assert read.equals(Polygon(SQUARE[0]))
