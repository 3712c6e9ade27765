"""GeoJSON, read without GDAL: a UTF-8 FeatureCollection in chunks from its mapped bytes, any
other GeoJSON whole."""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
from pyproj import CRS

from geodata.imports import files, geojson_features
from geodata.imports.files import refuse
from geodata.imports.geojson_checks import GeoJsonCheck, check_features, check_text, features_of
from geodata.imports.geojson_parse import paused_gc
from geodata.imports.geojson_stream import FeatureStream, open_stream
from geodata.imports.readers.crs import WGS84, resolve_crs, same_crs
from geodata.imports.readers.finish import GEOMETRY, Read, finish
from geodata.imports.report import Issue, RawLayer, ReadOptions


def open_chunks(
    path: Path, options: ReadOptions, given: CRS | None, expect_geometry: bool, chunk_rows: int
) -> Iterator[RawLayer] | None:
    """A UTF-8 FeatureCollection's chunks, once its text is checked (depth, the top-level
    object's keys, a legacy crs member) and its features located; None when the text is not
    laid out so (then it is read whole)."""
    if not files.decodes_as(path, "utf-8"):
        raise refuse(path, "the file is not UTF-8 text (likely GBK): pass --encoding gbk")
    with path.open("rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        stream = open_stream(data, path)
    except BaseException:
        data.close()
        raise
    if stream is not None:
        crs = geojson_crs(path, stream.legacy_crs, given)
        return geojson_chunks(stream, data, crs, options, expect_geometry, chunk_rows)
    data.close()
    return None


def geojson_chunks(
    stream: FeatureStream,
    data: mmap.mmap,
    crs: CRS,
    options: ReadOptions,
    expect_geometry: bool,
    chunk_rows: int,
) -> Iterator[RawLayer]:
    """The chunks of a FeatureCollection, `chunk_rows` features each; the mapping is closed
    when they are all read (or the reading stops)."""
    try:
        if stream.feature_count == 0:
            yield finish(geojson_frame(stream.path, [], crs, 0, expect_geometry), options,
                         expect_geometry=expect_geometry)  # fmt: skip
        for first, features, finite in stream.chunks(chunk_rows):
            raw = geojson_frame(stream.path, features, crs, first, expect_geometry, finite)
            del features
            yield finish(raw, options, expect_geometry=expect_geometry)
    finally:
        data.close()


def geojson_frame(
    path: Path,
    features: list[Any],
    crs: CRS,
    first: int,
    expect_geometry: bool,
    finite: bool = False,
) -> Read:
    """A chunk of parsed features (the first being feature `first` of the file) as a frame;
    `finite`: the parser admitted no NaN or Infinity."""
    with paused_gc():
        plain = geojson_features.plain(features) if finite else None
        unreadable: list[Issue] = []
        if plain is not None:
            geoms, check = plain, GeoJsonCheck(len(features))
        else:
            check = check_features(features, expect_geometry=expect_geometry)
            geoms, unreadable = geojson_features.geometries(features, check)
        table = geojson_features.attributes(features)
    if GEOMETRY in table.columns:
        table = table.rename(columns={GEOMETRY: f"{GEOMETRY}_"})
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, index=table.index))
    errors = sorted(
        [replace(i, feature=(i.feature or 0) + first) for i in [*check.issues, *unreadable]],
        key=lambda i: i.feature or 0,
    )
    return Read(
        path, frame, crs, errors=errors, z_count=check.z_features, first=first,
        plain=plain is not None,
    )  # fmt: skip


def geojson_crs(path: Path, legacy_name: str | None, given: CRS | None) -> CRS:
    if legacy_name is None:
        return given or CRS.from_user_input("OGC:CRS84")
    legacy = CRS.from_user_input(legacy_name)
    if given is None and not same_crs(legacy, WGS84):
        raise refuse(
            path,
            f"legacy crs member names {legacy_name}: GeoJSON (RFC 7946) is WGS84 "
            f"lon/lat; if the file really is in {legacy_name}, confirm it with "
            f"--crs {legacy_name}",
        )
    return resolve_crs(path, legacy, given, where="file's legacy crs member")


def read_geojson(
    path: Path, options: ReadOptions, given: CRS | None, expect_geometry: bool
) -> Read:
    with paused_gc():
        doc, check = check_text(
            path.read_bytes(), path, encoding=options.encoding, expect_geometry=expect_geometry
        )
    crs = geojson_crs(path, check.legacy_crs, given)
    with paused_gc():
        features = features_of(doc, path)
        del doc
        geoms, unreadable = geojson_features.geometries(features, check)
        table = geojson_features.attributes(features)
        del features
    if GEOMETRY in table.columns:
        table = table.rename(columns={GEOMETRY: f"{GEOMETRY}_"})
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, index=table.index))
    errors = sorted([*check.issues, *unreadable], key=lambda i: i.feature or 0)
    return Read(path, frame, crs, errors=errors, z_count=check.z_features)
