"""OpenStreetMap extracts (PBF and GeoPackage) imported as they come, counted independently."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pyogrio
import pytest
from sqlalchemy import Connection, text

from geodata.imports.load import import_file
from geodata.imports.report import ImportReport, Layer, ReadOptions
from tests.shared_data import OSM_GPKG, OSM_PBF

pytestmark = pytest.mark.skipif(
    not (OSM_PBF.is_file() and OSM_GPKG.is_file()), reason="shared OSM extracts not present"
)


def run(conn: Connection, layer: Layer, path: Path, **options: Any) -> ImportReport:
    return import_file(
        conn, layer, path, ReadOptions(**options), repair=False, dry_run=False, actor="test"
    )


def _read(path: Path, layer: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pyogrio.read_dataframe(path, layer=layer)
    return pd.DataFrame(frame)


def _tag(frame: pd.DataFrame, key: str) -> pd.Series:
    column = frame[key] if key in frame.columns else pd.Series([None] * len(frame))
    return (
        column.astype(object)
        .where(column.notna(), None)
        .map(lambda v: None if v is None or str(v).strip() == "" else str(v).strip())
    )


def _polygonal(frame: pd.DataFrame) -> pd.Series:
    return frame["geometry"].map(lambda g: g is not None and g.geom_type.endswith("Polygon"))


def _expected(path: Path, layers: dict[Layer, str]) -> dict[Layer, int]:
    """Features with each layer's tags, counted with pyogrio and pandas alone."""
    counts: dict[Layer, int] = {}
    b = _read(path, layers[Layer.BUILDINGS])
    building = _tag(b, "building")
    counts[Layer.BUILDINGS] = int((building.notna() & (building != "no") & _polygonal(b)).sum())
    r = _read(path, layers[Layer.ROADS])
    lines = r["geometry"].map(lambda g: g is not None and "LineString" in g.geom_type)
    counts[Layer.ROADS] = int((_tag(r, "highway").notna() & lines).sum())
    v = _read(path, layers[Layer.VILLAGES])
    municipality = (_tag(v, "boundary") == "administrative") & (_tag(v, "admin_level") == "8")
    counts[Layer.VILLAGES] = int((municipality & _polygonal(v)).sum())
    c = _read(path, layers[Layer.COMPOUNDS])
    counts[Layer.COMPOUNDS] = int(((_tag(c, "landuse") == "residential") & _polygonal(c)).sum())
    return counts


PBF_LAYERS = {
    Layer.VILLAGES: "multipolygons",
    Layer.COMPOUNDS: "multipolygons",
    Layer.BUILDINGS: "multipolygons",
    Layer.ROADS: "lines",
}
GPKG_LAYERS = {
    Layer.VILLAGES: "boundaries",
    Layer.COMPOUNDS: "landuse",
    Layer.BUILDINGS: "buildings",
    Layer.ROADS: "roads",
}
"""In the order a town is built: compounds find their village, buildings their compound."""


def _import_all(
    conn: Connection, path: Path, layers: dict[Layer, str], *, pbf: bool
) -> dict[Layer, ImportReport]:
    reports: dict[Layer, ImportReport] = {}
    for layer, name in layers.items():
        report = run(conn, layer, path, layer_name=None if pbf else name)
        assert report.ok, (layer, report.errors[:5])
        reports[layer] = report
    return reports


@pytest.mark.parametrize(
    ("path", "layers", "counts"),
    [
        (OSM_PBF, PBF_LAYERS, {"villages": 11, "buildings": 3723, "roads": 2751, "compounds": 16}),
        (
            OSM_GPKG,
            GPKG_LAYERS,
            {"villages": 12, "buildings": 3723, "roads": 2749, "compounds": 16},
        ),
    ],
    ids=["pbf", "gpkg"],
)
def test_osm_extract_imports_with_the_right_counts_then_unchanged(
    conn: Connection, path: Path, layers: dict[Layer, str], counts: dict[str, int]
) -> None:
    expected = _expected(path, layers)
    assert {layer.value: n for layer, n in expected.items()} == counts
    first = _import_all(conn, path, layers, pbf=path == OSM_PBF)
    for layer, report in first.items():
        assert (report.inserted, report.updated, report.unchanged) == (expected[layer], 0, 0)
    second = _import_all(conn, path, layers, pbf=path == OSM_PBF)
    for layer, report in second.items():
        assert (report.inserted, report.updated, report.unchanged) == (0, 0, expected[layer])
    vaduz = conn.execute(
        text("SELECT source_id, code, kind FROM villages WHERE name = 'Vaduz'")
    ).one()
    assert tuple(vaduz) == ("osm:relation/48", "osm-r48", "village")
    ids = conn.execute(text("SELECT source_id FROM buildings ORDER BY id LIMIT 3")).scalars()
    assert all(sid.startswith(("osm:way/", "osm:relation/")) for sid in ids)


def _osm_geojson(tmp_path: Path, features: list[dict[str, Any]]) -> Path:
    path = tmp_path / "extract.geojson"
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _square(x: float, y: float, d: float = 0.0002) -> list[list[float]]:
    return [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]


def test_multi_part_building_is_split_and_levels_give_floors(
    conn: Connection, tmp_path: Path
) -> None:
    two_parts = {
        "type": "MultiPolygon",
        "coordinates": [[_square(9.52, 47.12)], [_square(9.53, 47.12)]],
    }
    features = [
        {
            "type": "Feature",
            "properties": {
                "osm_id": "77",
                "osm_way_id": None,
                "building": "yes",
                "other_tags": '"building:levels"=>"3","roof:shape"=>"flat"',
            },
            "geometry": two_parts,
        },
        {
            "type": "Feature",
            "properties": {"osm_id": None, "osm_way_id": "5", "building": "house", "name": "A"},
            "geometry": {"type": "Polygon", "coordinates": [_square(9.54, 47.12)]},
        },
        {
            "type": "Feature",
            "properties": {"osm_id": None, "osm_way_id": "6", "landuse": "meadow"},
            "geometry": {"type": "Polygon", "coordinates": [_square(9.55, 47.12)]},
        },
    ]
    path = _osm_geojson(tmp_path, features)
    first = run(conn, Layer.BUILDINGS, path)
    assert first.ok, first.errors
    assert first.inserted == 3
    assert any("1 multi-part features split into 2 buildings" in w for w in first.warnings)
    rows = conn.execute(
        text("SELECT source_id, floors, use, name FROM buildings ORDER BY source_id")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("osm:relation/77#1", 3, "yes", None),
        ("osm:relation/77#2", 3, "yes", None),
        ("osm:way/5", None, "house", "A"),
    ]
    again = run(conn, Layer.BUILDINGS, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)


def test_an_id_field_reads_the_file_as_it_is(conn: Connection) -> None:
    report = run(conn, Layer.BUILDINGS, OSM_GPKG, id_field="id", layer_name="buildings")
    assert report.ok
    assert conn.execute(
        text("SELECT count(*) FROM buildings WHERE source_id ~ '^[0-9]+$'")
    ).scalar()
