"""Exports: every format read back and compared with the database, and RFC 7946 rules."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import Connection

from geodata.exports.filters import Filters
from geodata.exports.privacy import (
    AggregateLevel,
    PrivacyLevel,
)
from geodata.exports.run import ExportRequest, Format
from tests.conftest import TestDatabase
from tests.geodata.exports.support import (
    export,
    geojson_features,
    rows_of,
)

# -- round trips ------------------------------------------------------------------------
BUILDINGS_SQL = """
    SELECT b.id, b.name, b.floors, b.use, g.code AS grid, ST_AsBinary(b.geom) AS wkb
    FROM buildings b LEFT JOIN grids g ON g.id = b.grid_id ORDER BY b.id
"""


def read_back(path: Path, fmt: Format) -> list[dict[str, Any]]:
    """Features as dicts (id, properties, shapely geometry), read with pyogrio (CSV: csv)."""
    if fmt is Format.CSV:
        with path.open(encoding="utf-8-sig", newline="") as f:
            out = []
            for row in csv.DictReader(f):
                row["geometry"] = shapely.from_wkt(row.pop("wkt"))
                out.append(row)
            return out
    frame = pyogrio.read_dataframe(path, fid_as_index=fmt is Format.GEOJSON)
    if fmt is Format.GEOJSON:  # the Feature id is the OGR feature id
        frame["id"] = frame.index
    records: list[dict[str, Any]] = frame.to_dict("records")
    return records


@pytest.mark.parametrize("fmt", list(Format))
def test_buildings_round_trip_in_every_format(
    town: TestDatabase, tmp_path: Path, fmt: Format
) -> None:
    path, result = export(town, tmp_path, ExportRequest("buildings", fmt, csv_bom=True))
    with town.owner.connect() as conn:
        expected = rows_of(conn, BUILDINGS_SQL)
    got = read_back(path, fmt)
    assert result.rows == len(expected) == len(got) > 1000
    by_id = {int(g["id"]): g for g in got}
    for row in expected:
        feature = by_id[row["id"]]
        for name in ("name", "floors", "use", "grid"):
            value = feature[name]
            if value is None or value == "" or (isinstance(value, float) and value != value):
                value = None
            if fmt is Format.CSV and value is not None and name == "floors":
                value = int(value)
            assert value == row[name], (row["id"], name)
        original = shapely.from_wkb(row["wkb"])
        assert shapely.equals_exact(
            shapely.normalize(feature["geometry"]), shapely.normalize(original), tolerance=1e-6
        ), row["id"]
    if fmt is Format.CSV:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    if fmt in (Format.GPKG, Format.FGB):
        info = pyogrio.read_info(path)
        assert info["crs"] == "EPSG:4326"
        assert info["geometry_type"] == "Polygon"
        assert dict(zip(info["fields"], info["dtypes"], strict=True))["floors"] == "int64"


@pytest.mark.parametrize("fmt", [Format.GEOJSON, Format.GPKG, Format.FGB])
def test_full_visits_keep_types_and_values(town: TestDatabase, tmp_path: Path, fmt: Format) -> None:
    request = ExportRequest("visits", fmt, PrivacyLevel.FULL)
    path, result = export(town, tmp_path, request)
    with town.owner.connect() as conn:
        expected = rows_of(conn, "SELECT id, household_id, visited_at, fever_count FROM visits")
    if fmt is Format.GEOJSON:
        got = {f["id"]: f["properties"] for f in geojson_features(path)}
        for row in expected[:500]:
            props = got[row["id"]]
            assert props["household_id"] == row["household_id"]
            assert props["fever_count"] == row["fever_count"]
            assert props["visited_at"].startswith(row["visited_at"].strftime("%Y-%m-%dT%H:%M:%S"))
    else:
        frame = pyogrio.read_dataframe(path).set_index("id")
        assert str(frame["visited_at"].dtype).startswith("datetime64")
        for row in expected[:500]:
            assert frame.loc[row["id"], "household_id"] == row["household_id"]
            assert frame.loc[row["id"], "fever_count"] == row["fever_count"]
    assert result.rows == len(expected)


def test_csv_lonlat(town: TestDatabase, tmp_path: Path) -> None:
    path, _ = export(town, tmp_path, ExportRequest("checkpoints", Format.CSV, csv_lonlat=True))
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    with town.owner.connect() as conn:
        expected = {
            r["id"]: (r["x"], r["y"])
            for r in rows_of(conn, "SELECT id, ST_X(geom) AS x, ST_Y(geom) AS y FROM checkpoints")
        }
    assert len(rows) == len(expected)
    for row in rows:
        x, y = expected[int(row["id"])]
        assert abs(float(row["lon"]) - x) < 1e-6
        assert abs(float(row["lat"]) - y) < 1e-6


# -- RFC 7946 -----------------------------------------------------------------------------
DECIMALS = re.compile(rb"\d+\.(\d+)")


def assert_rfc7946(path: Path) -> int:
    raw = path.read_bytes()
    raw.decode("utf-8")
    assert max(len(m) for m in DECIMALS.findall(raw)) <= 7
    features = geojson_features(path)
    for feature in features:
        assert feature["type"] == "Feature"
        geometry = feature["geometry"]
        if geometry is None:
            continue
        shape = shapely.geometry.shape(geometry)
        assert shape.is_valid, feature["id"]
        polygons: list[Polygon] = (
            [shape] if isinstance(shape, Polygon)
            else list(shape.geoms) if isinstance(shape, MultiPolygon) else []
        )  # fmt: skip
        for polygon in polygons:
            assert polygon.exterior.is_ccw, feature["id"]
            assert not any(ring.is_ccw for ring in polygon.interiors), feature["id"]
        for lon, lat in _coordinates(geometry):
            assert -180 <= lon <= 180
            assert -90 <= lat <= 90
    return len(features)


def _coordinates(geometry: dict[str, Any]) -> Iterator[tuple[float, float]]:
    def walk(c: Any) -> Iterator[tuple[float, float]]:
        if isinstance(c[0], int | float):
            yield (c[0], c[1])
        else:
            for part in c:
                yield from walk(part)

    yield from walk(geometry["coordinates"])


@pytest.mark.parametrize(
    "request_",
    [
        ExportRequest("villages"),
        ExportRequest("grids"),
        ExportRequest("buildings"),
        ExportRequest("roads"),
        ExportRequest("compounds"),
        ExportRequest("entrances"),
        ExportRequest("patrol_zones"),
        ExportRequest("households"),
        ExportRequest("residents", level=AggregateLevel.HEX),
        ExportRequest("coverage", level=AggregateLevel.VILLAGE),
    ],
    ids=lambda r: f"{r.layer}-{r.level.value}",
)
def test_geojson_follows_rfc7946(
    town: TestDatabase, tmp_path: Path, request_: ExportRequest
) -> None:
    path, result = export(town, tmp_path, request_)
    assert assert_rfc7946(path) == result.rows > 0


def test_a_polygon_with_a_hole_keeps_rfc7946_winding(conn: Connection, tmp_path: Path) -> None:
    """A clockwise shell with a counterclockwise hole comes out the other way round."""
    from tests import factories

    shell = shapely.Polygon(
        [(0, 0), (0, 1), (1, 1), (1, 0)], holes=[[(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]]
    )
    assert not shell.exterior.is_ccw
    factories.building(conn, "holed", shell)
    from geodata.exports.layers import LAYERS as L
    from geodata.exports.privacy import RowView
    from geodata.exports.sources import row_source

    features = list(row_source(L["buildings"], RowView.FULL, Filters()).features(conn, None))
    path = tmp_path / "holed.geojson"
    path.write_text('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}")
    assert assert_rfc7946(path) == 1
