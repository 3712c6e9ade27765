"""Vectorised geometry of the sample town: reprojection, parts, polygons and point location."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer

from geodata.samples.osm_extract import METRIC_CRS, WGS84
from geodata.samples.sorted_groups import first_per_group

Geoms = npt.NDArray[np.object_]
Ints = npt.NDArray[np.int64]


@functools.cache
def _transformer(source: str, target: str) -> Any:
    return Transformer.from_crs(source, target, always_xy=True)


def reproject(geoms: Any, source: str, target: str) -> Geoms:
    """Geometries moved between CRSs vertex by vertex (shared vertices stay shared)."""
    transformer = _transformer(source, target)

    def move(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), move), dtype=object)


def to_metric(geoms: Any) -> Geoms:
    return reproject(geoms, WGS84, METRIC_CRS)


def to_wgs84(geoms: Any) -> Geoms:
    return reproject(geoms, METRIC_CRS, WGS84)


def single_parts(geoms: Any) -> tuple[Geoms, Ints]:
    """The points, lines and polygons in the geometries, collections opened at any depth,
    with the position of the geometry each comes from."""
    parts, index = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    while (collection := shapely.get_type_id(parts) >= 4).any():
        inner, inner_index = shapely.get_parts(parts[collection], return_index=True)
        parts = np.concatenate([parts[~collection], inner])
        index = np.concatenate([index[~collection], index[collection][inner_index]])
    return np.asarray(parts, dtype=object), np.asarray(index, dtype=np.int64)


def polygonal(geoms: Any) -> Geoms:
    """Valid multipolygons keeping only the polygonal parts of each geometry."""
    valid = shapely.make_valid(np.asarray(geoms, dtype=object))
    parts, index = single_parts(valid)
    keep = shapely.get_type_id(parts) == 3
    parts, index = parts[keep], index[keep]
    order = np.argsort(index, kind="stable")
    out = np.array([shapely.MultiPolygon() for _ in range(len(valid))], dtype=object)
    if len(parts):
        shapely.multipolygons(parts[order], indices=index[order], out=out)
    return out


def largest_polygon(geoms: Any) -> Geoms:
    """The largest polygon part of each geometry."""
    parts, index = shapely.get_parts(shapely.make_valid(np.asarray(geoms)), return_index=True)
    polygons = shapely.get_type_id(parts) == 3
    parts, index = parts[polygons], index[polygons]
    order = np.lexsort((-shapely.area(parts), index))
    return np.asarray(parts[order[first_per_group(index[order])]], dtype=object)


def locate(points: Any, areas: Any) -> Ints:
    """Position of the first area each point intersects, -1 for none."""
    pts = np.asarray(points, dtype=object)
    found = np.full(len(pts), -1, dtype=np.int64)
    if len(areas) == 0:
        return found
    point_idx, area_idx = shapely.STRtree(np.asarray(areas, dtype=object)).query(
        pts, predicate="intersects"
    )
    first = first_per_group(point_idx)
    found[point_idx[first]] = area_idx[first]
    return found
