"""Read an import file into a RawLayer: safe formats only, driver pinned, EPSG:4326, WGS84 datum."""

from __future__ import annotations

import csv
import io
import mmap
import re
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geodata.imports import files, geojson_features, geojson_text
from geodata.imports.datum import inside_china, to_wgs84
from geodata.imports.files import FileFormat, refuse
from geodata.imports.report import Datum, Issue, RawLayer, ReadOptions, merge_warnings

CHUNK_ROWS = 10_000
"""Features of a GeoJSON file parsed, checked and loaded at a time."""
FEATURE_COLUMN = "__feature__"
LINE_COLUMN = "__line__"
GEOMETRY = "geometry"
WGS84 = CRS.from_epsg(4326)

OSM_LAYERS = ("points", "lines", "multilinestrings", "multipolygons")
_OSM_LAYER_BY_GEOMETRY = {
    "Point": "points",
    "MultiPoint": "points",
    "LineString": "lines",
    "MultiLineString": "lines",
    "Polygon": "multipolygons",
    "MultiPolygon": "multipolygons",
}
_CSV_POSITION_COLUMNS = (("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("x", "y"))
_CSV_WKT_COLUMN = "wkt"
_CRS_OPTION = re.compile(r"^(EPSG|ESRI|OGC|IGNF):[A-Za-z0-9_]+$")

_GDAL_CONFIG = {
    # No network: nothing a file names may be fetched.
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".wangge-no-network",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    # Takes effect where drivers are registered again; the pinned prefixes and the content
    # sniffing are what keep the VRT drivers away from these files.
    "GDAL_SKIP": "VRT OGR_VRT",
}


def configure_gdal() -> ModuleType:
    """Process-wide GDAL settings for reading untrusted files; pyogrio, loaded on first use
    (a GeoJSON file is read without GDAL)."""
    import pyogrio

    pyogrio.set_gdal_config_options(_GDAL_CONFIG)
    module: ModuleType = pyogrio
    return module


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
    given_crs = _parse_crs_option(path, options.crs)
    if fmt is FileFormat.GEOJSON and options.encoding is None:
        if not files.decodes_as(path, "utf-8"):
            raise refuse(path, "the file is not UTF-8 text (likely GBK): pass --encoding gbk")
        with path.open("rb") as f:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            stream = geojson_text.open_stream(data, path)
        except BaseException:
            data.close()
            raise
        if stream is not None:
            crs = _geojson_crs(path, stream.legacy_crs, given_crs)
            size = chunk_rows or CHUNK_ROWS
            return _geojson_chunks(stream, data, crs, options, expect_geometry, size)
        data.close()
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


def _geojson_chunks(
    stream: geojson_text.FeatureStream,
    data: mmap.mmap,
    crs: CRS,
    options: ReadOptions,
    expect_geometry: bool,
    chunk_rows: int,
) -> Iterator[RawLayer]:
    try:
        if stream.feature_count == 0:
            yield _finish(_geojson_frame(stream.path, [], crs, 0, expect_geometry), options,
                          expect_geometry=expect_geometry)  # fmt: skip
        for first, features, finite in stream.chunks(chunk_rows):
            raw = _geojson_frame(stream.path, features, crs, first, expect_geometry, finite)
            del features
            yield _finish(raw, options, expect_geometry=expect_geometry)
    finally:
        data.close()


def _geojson_frame(
    path: Path,
    features: list[Any],
    crs: CRS,
    first: int,
    expect_geometry: bool,
    finite: bool = False,
) -> _Read:
    """A chunk of parsed features (the first being feature `first` of the file) as a frame;
    `finite`: the parser admitted no NaN or Infinity."""
    with geojson_text.paused_gc():
        plain = geojson_features.plain(features) if finite else None
        unreadable: list[Issue] = []
        if plain is not None:
            geoms, check = plain, geojson_text.GeoJsonCheck(len(features))
        else:
            check = geojson_text.check_features(features, expect_geometry=expect_geometry)
            geoms, unreadable = geojson_features.geometries(features, check)
        table = geojson_features.attributes(features)
    if GEOMETRY in table.columns:
        table = table.rename(columns={GEOMETRY: f"{GEOMETRY}_"})
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, index=table.index))
    errors = sorted(
        [replace(i, feature=(i.feature or 0) + first) for i in [*check.issues, *unreadable]],
        key=lambda i: i.feature or 0,
    )
    return _Read(
        path, frame, crs, errors=errors, z_count=check.z_features, first=first,
        plain=plain is not None,
    )  # fmt: skip


def _geojson_crs(path: Path, legacy_name: str | None, given: CRS | None) -> CRS:
    if legacy_name is None:
        return given or CRS.from_user_input("OGC:CRS84")
    legacy = CRS.from_user_input(legacy_name)
    if given is None and not _same_crs(legacy, WGS84):
        raise refuse(
            path,
            f"legacy crs member names {legacy_name}: GeoJSON (RFC 7946) is WGS84 "
            f"lon/lat; if the file really is in {legacy_name}, confirm it with "
            f"--crs {legacy_name}",
        )
    return _resolve_crs(path, legacy, given, where="file's legacy crs member")


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
            raw = _read_geojson(path, options, given_crs, expect_geometry)
        elif fmt is FileFormat.CSV:
            raw = _read_csv(path, options, given_crs, expect_geometry)
        elif fmt is FileFormat.GEOPACKAGE:
            raw = _read_geopackage(path, options, given_crs)
        elif fmt is FileFormat.OSM_PBF:
            raw = _read_osm(path, options, given_crs, geometry_type)
        else:
            raw = _read_shapefile(path, fmt, options, given_crs, workdir)
        return _finish(raw, options, expect_geometry=expect_geometry)


# --- CRS -------------------------------------------------------------------------------------


def _parse_crs_option(path: Path, crs: str | None) -> CRS | None:
    if crs is None:
        return None
    if not _CRS_OPTION.match(crs.strip()):
        raise refuse(path, f"--crs {crs[:40]!r} is not of the form EPSG:NNNN")
    try:
        return CRS.from_user_input(crs.strip())
    except CRSError:
        raise refuse(path, f"--crs {crs[:40]} is not a known coordinate system") from None


def _same_crs(a: CRS, b: CRS) -> bool:
    if a.equals(b, ignore_axis_order=True):
        return True
    epsg_a = a.to_epsg(min_confidence=70)
    return epsg_a is not None and epsg_a == b.to_epsg(min_confidence=70)


def _crs_label(crs: CRS) -> str:
    authority = crs.to_authority(min_confidence=70)
    return ":".join(authority) if authority else crs.name


def _resolve_crs(path: Path, declared: CRS | None, given: CRS | None, *, where: str) -> CRS:
    """The file's own CRS, confirmed by --crs when both exist; --crs alone when it has none."""
    if declared is not None and given is not None and not _same_crs(declared, given):
        raise refuse(
            path,
            f"--crs {_crs_label(given)} contradicts the {where} ({_crs_label(declared)})",
        )
    crs = declared or given
    if crs is None:
        raise refuse(path, f"no coordinate system: the {where} is missing; pass --crs EPSG:NNNN")
    return crs


# --- GDAL --------------------------------------------------------------------------------------


def _gdal_read(
    path: Path, source: str, *, layer: str | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Read with GDAL; its warnings are dropped (the checks here report the problems)."""
    pyogrio = configure_gdal()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pyogrio.read_dataframe(
                source, layer=layer, encoding=encoding, use_arrow=True, on_invalid="ignore"
            )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as e:
        raise refuse(path, f"the file cannot be read: {str(e)[:160]}") from None
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)))
    return frame


def _check_driver(path: Path, source: str, expected: str) -> None:
    pyogrio = configure_gdal()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        driver = pyogrio.read_info(source)["driver"]
    if driver != expected:
        raise refuse(path, f"disguised format: GDAL sees {driver}, not {expected}")


def _layer_names(source: str) -> list[str]:
    pyogrio = configure_gdal()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [str(name) for name, _ in pyogrio.list_layers(source)]


# --- formats -----------------------------------------------------------------------------------


class _Read:
    """A frame as read, before geometry checks, CRS and datum are applied."""

    def __init__(
        self,
        path: Path,
        frame: gpd.GeoDataFrame,
        crs: CRS | None,
        *,
        row_label: str = "feature",
        errors: list[Issue] | None = None,
        warnings_: list[str] | None = None,
        z_count: int | None = None,
        first: int = 0,
        plain: bool = False,
    ) -> None:
        self.path = path
        self.frame = frame
        self.crs = crs
        self.row_label = row_label
        self.errors = errors or []
        self.warnings = warnings_ or []
        self.z_count = z_count
        self.first = first
        """The file's index of the frame's first feature (a chunk of a longer file)."""
        self.plain = plain
        """Every geometry present, 2-D and finite: nothing for the per-row checks to find."""


def _read_geojson(
    path: Path, options: ReadOptions, given: CRS | None, expect_geometry: bool
) -> _Read:
    with geojson_text.paused_gc():
        doc, check = geojson_text.check_text(
            path.read_bytes(), path, encoding=options.encoding, expect_geometry=expect_geometry
        )
    crs = _geojson_crs(path, check.legacy_crs, given)
    with geojson_text.paused_gc():
        features = geojson_text.features_of(doc, path)
        del doc
        geoms, unreadable = geojson_features.geometries(features, check)
        table = geojson_features.attributes(features)
        del features
    if GEOMETRY in table.columns:
        table = table.rename(columns={GEOMETRY: f"{GEOMETRY}_"})
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, index=table.index))
    errors = sorted([*check.issues, *unreadable], key=lambda i: i.feature or 0)
    return _Read(path, frame, crs, errors=errors, z_count=check.z_features)


def _read_geopackage(path: Path, options: ReadOptions, given: CRS | None) -> _Read:
    source = f"GPKG:{path}"
    names = _layer_names(source)
    if options.layer_name is not None:
        if options.layer_name not in names:
            raise refuse(
                path, f"no layer {options.layer_name[:60]!r}: the file holds {', '.join(names)}"
            )
        layer = options.layer_name
    elif len(names) == 1:
        layer = names[0]
    else:
        raise refuse(
            path, f"the GeoPackage holds several layers ({', '.join(names)}): pass --layer"
        )
    frame = _gdal_read(path, source, layer=layer)
    declared = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    return _Read(path, frame, _resolve_crs(path, declared, given, where="GeoPackage's CRS"))


def _read_osm(
    path: Path, options: ReadOptions, given: CRS | None, geometry_type: str | None
) -> _Read:
    layer = options.layer_name or _OSM_LAYER_BY_GEOMETRY.get(geometry_type or "")
    if layer not in OSM_LAYERS:
        raise refuse(path, f"an OSM extract needs --layer {'|'.join(OSM_LAYERS)}")
    _check_driver(path, str(path), "OSM")
    frame = _gdal_read(path, str(path), layer=layer)
    return _Read(path, frame, _resolve_crs(path, WGS84, given, where="OSM extract's WGS84"))


def _read_shapefile(
    path: Path, fmt: FileFormat, options: ReadOptions, given: CRS | None, workdir: Path
) -> _Read:
    if fmt is FileFormat.SHAPEFILE_ZIP:
        parts = files.extract_shapefile(
            path, workdir, max_bytes=options.max_bytes, layer_name=options.layer_name
        )
    else:
        parts = files.copy_shapefile(path, workdir, max_bytes=options.max_bytes)
    if not parts.has_prj and given is None:
        raise refuse(path, "the Shapefile has no .prj: pass --crs EPSG:NNNN")
    encoding = files.dbf_encoding(
        parts.shp.with_suffix(".dbf"),
        cpg=parts.shp.with_suffix(".cpg") if parts.has_cpg else None,
        given=options.encoding,
        source=path,
    )
    _check_driver(path, str(parts.shp), "ESRI Shapefile")
    frame = _gdal_read(path, str(parts.shp), encoding=encoding)
    declared = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    if parts.has_prj and declared is None:
        raise refuse(path, "the .prj names no coordinate system GDAL understands: pass --crs")
    return _Read(path, frame, _resolve_crs(path, declared, given, where="Shapefile's .prj"))


# --- CSV ---------------------------------------------------------------------------------------


def _delimiter(header_line: str) -> str:
    return max((",", ";", "\t"), key=header_line.count)


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, fields) for each non-blank record; the header is line 1."""
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    line = 1
    for fields in reader:
        start = line
        line = reader.line_num + 1
        if fields:
            yield start, fields


def _read_csv(path: Path, options: ReadOptions, given: CRS | None, expect_geometry: bool) -> _Read:
    text = files.decode_text(path.read_bytes(), path, given=options.encoding)
    errors: list[Issue] = []
    rows = _csv_rows(text)
    try:
        _, header = next(rows)
    except StopIteration:
        raise refuse(path, "the CSV file has no header line") from None
    except csv.Error as e:
        raise refuse(path, f"the CSV header cannot be read: {e}") from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header) or "" in header:
        raise refuse(path, "the CSV header has empty or duplicate column names")
    lines: list[int] = []
    records: list[list[str]] = []
    width = len(header)
    try:
        for line, fields in rows:
            if len(fields) != width:
                errors.append(
                    Issue(reason=f"the row has {len(fields)} fields, the header {width}", line=line)
                )
                fields = (fields + [""] * width)[:width]
            lines.append(line)
            records.append(fields)
    except csv.Error as e:
        raise refuse(path, f"the CSV file cannot be read: {e}") from None
    del text
    table = pd.DataFrame(records, columns=header, dtype=object)
    del records
    table = table.where(table != "", None)
    line_array = np.asarray(lines, dtype=np.int64)
    geometry, geometry_errors = _csv_geometry(path, table, line_array, expect_geometry)
    errors.extend(geometry_errors)
    if _CSV_WKT_COLUMN in {c.lower() for c in table.columns}:
        table = table.drop(columns=[c for c in table.columns if c.lower() == _CSV_WKT_COLUMN])
    table.insert(0, LINE_COLUMN, line_array)
    has_geometry = geometry is not None
    if geometry is None:
        geometry = np.full(len(table), None, dtype=object)
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometry, index=table.index))
    crs = (given or WGS84) if has_geometry else None
    return _Read(path, frame, crs, row_label="line", errors=errors)


def _column(table: pd.DataFrame, name: str) -> str | None:
    for c in table.columns:
        if c.lower() == name:
            return str(c)
    return None


def _csv_geometry(
    path: Path, table: pd.DataFrame, lines: npt.NDArray[np.int64], expect_geometry: bool
) -> tuple[npt.NDArray[Any] | None, list[Issue]]:
    """Points from lon/lat columns or shapes from a wkt column; a problem per bad line."""
    errors: list[Issue] = []
    wkt = _column(table, _CSV_WKT_COLUMN)
    if wkt is not None:
        raw = table[wkt].to_numpy(dtype=object)
        present = pd.notna(raw)
        geoms = np.full(len(raw), None, dtype=object)
        geoms[present] = shapely.from_wkt(raw[present].astype(str), on_invalid="ignore")
        for i in np.flatnonzero(present & pd.isna(geoms)):
            errors.append(Issue(reason="not valid WKT", line=int(lines[i]), field=wkt))
        return geoms, errors
    for lon_name, lat_name in _CSV_POSITION_COLUMNS:
        lon_col, lat_col = _column(table, lon_name), _column(table, lat_name)
        if lon_col is None or lat_col is None:
            continue
        lon_raw, lat_raw = table[lon_col], table[lat_col]
        lon = pd.to_numeric(lon_raw, errors="coerce").to_numpy(dtype=np.float64)
        lat = pd.to_numeric(lat_raw, errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(lon) & np.isfinite(lat)
        both_empty = lon_raw.isna().to_numpy() & lat_raw.isna().to_numpy()
        for name, raw_col, values in ((lon_col, lon_raw, lon), (lat_col, lat_raw, lat)):
            bad = ~np.isfinite(values) & ~both_empty
            for i in np.flatnonzero(bad):
                empty = raw_col.iat[int(i)] is None
                reason = f"{name} is empty" if empty else f"{name} is not a number"
                errors.append(Issue(reason=reason, line=int(lines[i]), field=name))
        geoms = np.full(len(table), None, dtype=object)
        geoms[ok] = shapely.points(lon[ok], lat[ok])
        return geoms, errors
    if expect_geometry:
        raise refuse(
            path,
            "no position columns: expected lon/lat (or longitude/latitude, x/y) or a wkt column",
        )
    return None, errors


# --- geometry, CRS and datum for every format --------------------------------------------------


def _feature_issue(raw: _Read, row: int, reason: str) -> Issue:
    if raw.row_label == "line":
        line = int(raw.frame[LINE_COLUMN].iat[row])
        return Issue(reason=reason, line=line, field=GEOMETRY)
    return Issue(reason=reason, feature=raw.first + row, field=GEOMETRY)


def _drop_rows(
    raw: _Read, geoms: npt.NDArray[Any], rows: npt.NDArray[np.intp], reason: str
) -> None:
    for row in rows:
        raw.errors.append(_feature_issue(raw, int(row), reason))
    geoms[rows] = None


def _finish(raw: _Read, options: ReadOptions, *, expect_geometry: bool) -> RawLayer:
    frame = raw.frame
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        frame = frame.reset_index(drop=True)
    if raw.row_label == "feature":
        frame.insert(0, FEATURE_COLUMN, np.arange(len(frame), dtype=np.int64) + raw.first)
    raw.frame = frame
    geometry_name = frame.geometry.name
    geoms = frame.geometry.to_numpy(dtype=object).copy()
    has_geometry = raw.crs is not None
    if has_geometry:
        if not raw.plain:
            geoms = _checked_positions(raw, frame, geoms, expect_geometry=expect_geometry)
        geoms = _to_wgs84(raw, geoms, options.datum)
    geometry = gpd.GeoSeries(geoms, index=frame.index, crs=WGS84, name=GEOMETRY)
    if geometry_name == GEOMETRY:
        frame[GEOMETRY] = geometry
    else:
        frame = gpd.GeoDataFrame(pd.DataFrame(frame.drop(columns=geometry_name)), geometry=geometry)
    return RawLayer(
        path=raw.path,
        frame=frame,
        has_geometry=has_geometry,
        row_label=raw.row_label,
        warnings=raw.warnings,
        errors=sorted(raw.errors, key=lambda i: (i.feature or 0, i.line or 0)),
    )


def _checked_positions(
    raw: _Read, frame: gpd.GeoDataFrame, geoms: npt.NDArray[Any], *, expect_geometry: bool
) -> npt.NDArray[Any]:
    """Null geometries (where one is expected) and 4-D positions dropped as errors; 3-D
    positions made 2-D, with a warning."""
    already = np.asarray(
        [i.feature if raw.row_label == "feature" else i.line for i in raw.errors],
        dtype=np.float64,
    )
    labels = frame[FEATURE_COLUMN if raw.row_label == "feature" else LINE_COLUMN].to_numpy()
    missing = pd.isna(geoms) & ~np.isin(labels, already)
    if expect_geometry:
        _drop_rows(raw, geoms, np.flatnonzero(missing), "geometry is null")
    four_d = shapely.has_z(geoms) & shapely.has_m(geoms)
    _drop_rows(raw, geoms, np.flatnonzero(four_d), "4-D positions (x, y, z, m) are refused")
    extra = shapely.has_z(geoms) | shapely.has_m(geoms)
    z_count = raw.z_count if raw.z_count is not None else int(extra.sum())
    if extra.any():
        geoms[extra] = shapely.force_2d(geoms[extra])
    if z_count:
        raw.warnings.append(
            f"{z_count} {raw.row_label}s had 3-D positions: the third value was dropped"
        )
    return geoms


def _to_wgs84(raw: _Read, geoms: npt.NDArray[Any], datum: Datum) -> npt.NDArray[Any]:
    """Reproject to EPSG:4326 (lon/lat order), then convert a Chinese datum; bad rows dropped."""
    assert raw.crs is not None
    if not raw.plain:
        coords, idx = shapely.get_coordinates(geoms, return_index=True)
        finite = np.isfinite(coords).all(axis=1)
        _drop_rows(raw, geoms, np.unique(idx[~finite]), "a coordinate is NaN or infinite")
    if not _same_crs(raw.crs, WGS84):
        geoms = gpd.GeoSeries(geoms, crs=raw.crs).to_crs(WGS84).to_numpy(dtype=object)
        coords, idx = shapely.get_coordinates(geoms, return_index=True)
        finite = np.isfinite(coords).all(axis=1)
        _drop_rows(
            raw, geoms, np.unique(idx[~finite]), f"does not project from {_crs_label(raw.crs)}"
        )
    if datum is Datum.WGS84:
        return geoms
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    outside = ~inside_china(coords[:, 0], coords[:, 1])
    _drop_rows(
        raw,
        geoms,
        np.unique(idx[outside]),
        f"outside China's extent: the {datum.value} datum is defined only in China",
    )
    coords = shapely.get_coordinates(geoms)
    lon, lat = to_wgs84(datum, coords[:, 0], coords[:, 1])
    return shapely.set_coordinates(geoms.copy(), np.column_stack([lon, lat]))
