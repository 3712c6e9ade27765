"""CSV, read without GDAL: positions from lon/lat columns or a wkt column, rows by line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS

from geodata.imports import files
from geodata.imports.files import refuse
from geodata.imports.readers.crs import WGS84
from geodata.imports.readers.finish import LINE_COLUMN, Read
from geodata.imports.report import Issue, ReadOptions

_CSV_POSITION_COLUMNS = (("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("x", "y"))
_CSV_WKT_COLUMN = "wkt"


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


def read_csv(path: Path, options: ReadOptions, given: CRS | None, expect_geometry: bool) -> Read:
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
    geometry, geometry_errors, positions = _csv_geometry(path, table, line_array, expect_geometry)
    errors.extend(geometry_errors)
    table = table.drop(columns=list(positions))  # read as the geometry, not as fields
    table.insert(0, LINE_COLUMN, line_array)
    has_geometry = geometry is not None
    if geometry is None:
        geometry = np.full(len(table), None, dtype=object)
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometry, index=table.index))
    crs = (given or WGS84) if has_geometry else None
    return Read(path, frame, crs, row_label="line", errors=errors)


def _column(table: pd.DataFrame, name: str) -> str | None:
    for c in table.columns:
        if c.lower() == name:
            return str(c)
    return None


def _csv_geometry(
    path: Path, table: pd.DataFrame, lines: npt.NDArray[np.int64], expect_geometry: bool
) -> tuple[npt.NDArray[Any] | None, list[Issue], tuple[str, ...]]:
    """Points from lon/lat columns or shapes from a wkt column; a problem per bad line; the
    columns read."""
    errors: list[Issue] = []
    wkt = _column(table, _CSV_WKT_COLUMN)
    if wkt is not None:
        raw = table[wkt].to_numpy(dtype=object)
        present = pd.notna(raw)
        geoms = np.full(len(raw), None, dtype=object)
        geoms[present] = shapely.from_wkt(raw[present].astype(str), on_invalid="ignore")
        for i in np.flatnonzero(present & pd.isna(geoms)):
            errors.append(Issue(reason="not valid WKT", line=int(lines[i]), field=wkt))
        return geoms, errors, (wkt,)
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
        return geoms, errors, (lon_col, lat_col)
    if expect_geometry:
        raise refuse(
            path,
            "no position columns: expected lon/lat (or longitude/latitude, x/y) or a wkt column",
        )
    return None, errors, ()
