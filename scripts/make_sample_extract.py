"""Cut the bundled OpenStreetMap extract of the sample town from ../shared/data.

Usage: python scripts/make_sample_extract.py [SOURCE_GPKG] [TARGET_ZIP]

Keeps the layers and columns the sample town reads (boundaries of admin_level 2 and 8
with the municipality number, buildings, roads, landuse polygons) and writes them as
GeoJSON files (RFC 7946, 7 decimals: the precision of OSM itself) in one zip archive
with fixed timestamps, so that the same source gives the same bytes.
"""

from __future__ import annotations

import json
import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "osm" / "liechtenstein-2013-08-03.gpkg"
TARGET = ROOT / "geodata" / "samples" / "data" / "liechtenstein-2013-08-03.geojson.zip"
LAYER_OPTIONS = {"COORDINATE_PRECISION": 7, "RFC7946": "YES", "WRITE_NAME": "NO"}


def _tag(tags: pd.Series, *keys: str) -> pd.Series:
    """The first present value of the given OSM tag keys in a column of JSON tag objects."""

    def pick(raw: object) -> str | None:
        if not isinstance(raw, str):
            return None
        parsed = json.loads(raw)
        for key in keys:
            value = parsed.get(key)
            if value is not None:
                return str(value)
        return None

    return tags.map(pick).astype("string")


def boundaries(source: Path) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(source, layer="boundaries")
    frame["admin_level"] = pd.to_numeric(frame["admin_level"]).astype("int32")
    frame = frame[frame["admin_level"].isin([2, 8])].copy()
    number = _tag(frame["tags"], "bfs:OBJECTVAL", "swisstopo:BFS_NUMMER")
    frame["municipality_number"] = pd.to_numeric(number).astype("Int32")
    return frame[["osm_type", "id", "name", "admin_level", "municipality_number", "geometry"]]


def buildings(source: Path) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(source, layer="buildings")
    levels = pd.to_numeric(_tag(frame["tags"], "building:levels"), errors="coerce")
    frame["levels"] = levels.round().astype("Int32")
    return frame[["osm_type", "id", "building", "name", "amenity", "levels", "geometry"]]


def roads(source: Path) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(source, layer="roads")
    return frame[["osm_type", "id", "highway", "name", "ref", "geometry"]]


def landuse(source: Path) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(source, layer="landuse")
    frame = frame[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    return frame[["osm_type", "id", "landuse", "geometry"]]


def main(source: Path = SOURCE, target: Path = TARGET) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    readers = {"boundaries": boundaries, "buildings": buildings, "roads": roads, "landuse": landuse}
    with (
        tempfile.TemporaryDirectory() as tmp,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
    ):
        for name, read in readers.items():
            frame = read(source).rename(columns={"id": "osm_id"})
            path = Path(tmp) / f"{name}.geojson"
            pyogrio.write_dataframe(frame, path, driver="GeoJSON", layer_options=LAYER_OPTIONS)
            info = zipfile.ZipInfo(path.name, date_time=(2013, 8, 3, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
            print(f"{name}: {len(frame)} features")
    print(f"wrote {target} ({target.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:3]]
    main(*args)
