"""A frame as read made a RawLayer, for every format: rows labelled, positions checked, WGS84."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS

from geodata.imports.datum import inside_china, to_wgs84
from geodata.imports.readers.crs import WGS84, crs_label, same_crs
from geodata.imports.report import Datum, Issue, RawLayer, ReadOptions

FEATURE_COLUMN = "__feature__"
LINE_COLUMN = "__line__"
GEOMETRY = "geometry"


class Read:
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


def _feature_issue(raw: Read, row: int, reason: str) -> Issue:
    if raw.row_label == "line":
        line = int(raw.frame[LINE_COLUMN].iat[row])
        return Issue(reason=reason, line=line, field=GEOMETRY)
    return Issue(reason=reason, feature=raw.first + row, field=GEOMETRY)


def _drop_rows(raw: Read, geoms: npt.NDArray[Any], rows: npt.NDArray[np.intp], reason: str) -> None:
    for row in rows:
        raw.errors.append(_feature_issue(raw, int(row), reason))
    geoms[rows] = None


def finish(raw: Read, options: ReadOptions, *, expect_geometry: bool) -> RawLayer:
    """The layer as checked: rows labelled, bad positions dropped as errors, in WGS84."""
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
    raw: Read, frame: gpd.GeoDataFrame, geoms: npt.NDArray[Any], *, expect_geometry: bool
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


def _to_wgs84(raw: Read, geoms: npt.NDArray[Any], datum: Datum) -> npt.NDArray[Any]:
    """Reproject to EPSG:4326 (lon/lat order), then convert a Chinese datum; bad rows dropped."""
    assert raw.crs is not None
    if not raw.plain:
        coords, idx = shapely.get_coordinates(geoms, return_index=True)
        finite = np.isfinite(coords).all(axis=1)
        _drop_rows(raw, geoms, np.unique(idx[~finite]), "a coordinate is NaN or infinite")
    if not same_crs(raw.crs, WGS84):
        geoms = gpd.GeoSeries(geoms, crs=raw.crs).to_crs(WGS84).to_numpy(dtype=object)
        coords, idx = shapely.get_coordinates(geoms, return_index=True)
        finite = np.isfinite(coords).all(axis=1)
        _drop_rows(
            raw, geoms, np.unique(idx[~finite]), f"does not project from {crs_label(raw.crs)}"
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
