"""Read an import file into a RawLayer: safe formats only, driver pinned, EPSG:4326, WGS84 datum.

One module per format (geojson, csv_file, geopackage, shapefile, osm_pbf); what they share:
crs (the --crs option, a file's CRS confirmed), gdal (GDAL settings and reads), finish (the
frame as read made a checked layer in WGS84). This module picks the reader by format.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from geodata.imports import files
from geodata.imports.files import FileFormat
from geodata.imports.readers.crs import WGS84, parse_crs_option
from geodata.imports.readers.csv_file import read_csv
from geodata.imports.readers.finish import FEATURE_COLUMN, GEOMETRY, LINE_COLUMN, finish
from geodata.imports.readers.gdal import configure_gdal
from geodata.imports.readers.geojson import open_chunks, read_geojson
from geodata.imports.readers.geopackage import read_geopackage
from geodata.imports.readers.osm_pbf import OSM_LAYERS, read_osm
from geodata.imports.readers.shapefile import read_shapefile
from geodata.imports.report import RawLayer, ReadOptions, merge_warnings

__all__ = [
    "CHUNK_ROWS",
    "FEATURE_COLUMN",
    "GEOMETRY",
    "LINE_COLUMN",
    "OSM_LAYERS",
    "WGS84",
    "combine",
    "configure_gdal",
    "read_chunks",
    "read_layer",
]

CHUNK_ROWS = 10_000
"""Features of a GeoJSON file parsed, checked and loaded at a time."""


def read_layer(
    path: Path,
    options: ReadOptions,
    *,
    expect_geometry: bool,
    geometry_type: str | None = None,
) -> RawLayer:
    """Read one layer of an import file; file-level problems raise FileRefused.

    Per-feature problems (null or unreadable geometry, 4-D positions, positions outside China
    with a Chinese datum) are returned in `errors`, with the feature's geometry set to None.
    `geometry_type` ('Point', 'LineString', 'Polygon', ...) picks the layer of an OSM extract.
    """
    chunks = read_chunks(
        path, options, expect_geometry=expect_geometry, geometry_type=geometry_type
    )
    return combine(list(chunks))


def read_chunks(
    path: Path,
    options: ReadOptions,
    *,
    expect_geometry: bool,
    geometry_type: str | None = None,
    chunk_rows: int | None = None,
) -> Iterator[RawLayer]:
    """Read one layer of an import file as consecutive chunks of rows (see `read_layer`).

    The file-level checks (size, format, nesting depth, the top-level object's keys, a legacy
    crs member) run before this returns. A GeoJSON FeatureCollection in UTF-8 is then parsed
    `chunk_rows` features at a time from its mapped bytes, so memory does not grow with the
    file; a repeated key inside a feature refuses the file when its chunk is reached. Other
    formats come as one chunk.
    """
    path = Path(path)
    files.check_size(path, options.max_bytes)
    fmt = files.detect_format(path)
    given_crs = parse_crs_option(path, options.crs)
    if fmt is FileFormat.GEOJSON and options.encoding is None:
        size = chunk_rows or CHUNK_ROWS
        chunks = open_chunks(path, options, given_crs, expect_geometry, size)
        if chunks is not None:
            return chunks
    return iter([_read_whole(path, fmt, options, given_crs, expect_geometry, geometry_type)])


def combine(chunks: list[RawLayer]) -> RawLayer:
    """Chunks of one file as one layer: rows in order, warnings merged."""
    if len(chunks) == 1:
        return chunks[0]
    first = chunks[0]
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    return RawLayer(
        path=first.path,
        frame=gpd.GeoDataFrame(frame, geometry=GEOMETRY, crs=first.frame.crs),
        has_geometry=first.has_geometry,
        row_label=first.row_label,
        warnings=merge_warnings([w for c in chunks for w in c.warnings]),
        errors=[e for c in chunks for e in c.errors],
    )


def _read_whole(
    path: Path,
    fmt: FileFormat,
    options: ReadOptions,
    given_crs: CRS | None,
    expect_geometry: bool,
    geometry_type: str | None,
) -> RawLayer:
    with tempfile.TemporaryDirectory(prefix="wangge-import-") as tmp:
        workdir = Path(tmp)
        if fmt is FileFormat.GEOJSON:
            raw = read_geojson(path, options, given_crs, expect_geometry)
        elif fmt is FileFormat.CSV:
            raw = read_csv(path, options, given_crs, expect_geometry)
        elif fmt is FileFormat.GEOPACKAGE:
            raw = read_geopackage(path, options, given_crs)
        elif fmt is FileFormat.OSM_PBF:
            raw = read_osm(path, options, given_crs, geometry_type)
        else:
            raw = read_shapefile(path, fmt, options, given_crs, workdir)
        return finish(raw, options, expect_geometry=expect_geometry)
