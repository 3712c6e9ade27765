"""GeoJSON features (parsed and checked) into a frame: attributes and shapely geometries.

Points, LineStrings, Polygons and MultiPolygons of 2-D positions are built in bulk from one
array of coordinates; anything else (3-D positions, other types, rings not closed or too short,
empty parts) is handed to GEOS's GeoJSON reader one feature at a time, its refusal reported.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import pandas as pd
import shapely

from geodata.imports.geojson_checks import GEOMETRY, GeoJsonCheck
from geodata.imports.report import Issue

Geoms = npt.NDArray[np.object_]


def _xy(positions: list[list[float]]) -> npt.NDArray[np.float64]:
    flat = np.fromiter(chain.from_iterable(positions), dtype=np.float64, count=2 * len(positions))
    return flat.reshape(-1, 2)


class _Parts:
    """Coordinates gathered for bulk construction, with the sizes that cut them apart."""

    def __init__(self) -> None:
        self.positions: list[list[float]] = []
        self.ring_sizes: list[int] = []
        self.polygon_rings: list[int] = []
        self.polygon_owner: list[int] = []
        self.multi: list[int] = []
        self.line_positions: list[list[float]] = []
        self.line_sizes: list[int] = []
        self.line_owner: list[int] = []
        self.point_xy: list[list[float]] = []
        self.point_owner: list[int] = []

    def polygons(self, i: int, polygons: Any, *, multi: bool) -> bool:
        if not polygons:
            return False
        for rings in polygons:
            if not rings:
                return False
            for ring in rings:
                if len(ring) < 4 or ring[0] != ring[-1]:
                    return False
        for rings in polygons:
            for ring in rings:
                self.positions.extend(ring)
                self.ring_sizes.append(len(ring))
            self.polygon_rings.append(len(rings))
            self.polygon_owner.append(i)
        if multi:
            self.multi.append(i)
        return True

    def line(self, i: int, positions: Any) -> bool:
        if len(positions) < 2:
            return False
        self.line_positions.extend(positions)
        self.line_sizes.append(len(positions))
        self.line_owner.append(i)
        return True

    def build(self, out: Geoms) -> None:
        if self.ring_sizes:
            coords = _xy(self.positions)
            ring_index = np.repeat(np.arange(len(self.ring_sizes)), self.ring_sizes)
            rings = np.asarray(shapely.linearrings(coords, indices=ring_index))
            polygon_index = np.repeat(np.arange(len(self.polygon_rings)), self.polygon_rings)
            polygons: Geoms = np.asarray(shapely.polygons(rings, indices=polygon_index))
            owner = np.asarray(self.polygon_owner, dtype=np.intp)
            is_multi = np.isin(owner, np.asarray(self.multi, dtype=np.intp))
            out[owner[~is_multi]] = polygons[~is_multi]
            if is_multi.any():
                owners, compact = np.unique(owner[is_multi], return_inverse=True)
                out[owners] = shapely.multipolygons(polygons[is_multi], indices=compact)
        if self.line_sizes:
            line_index = np.repeat(np.arange(len(self.line_sizes)), self.line_sizes)
            lines = shapely.linestrings(_xy(self.line_positions), indices=line_index)
            out[np.asarray(self.line_owner, dtype=np.intp)] = lines
        if self.point_xy:
            xy = np.asarray(self.point_xy, dtype=np.float64).reshape(-1, 2)
            out[np.asarray(self.point_owner, dtype=np.intp)] = shapely.points(xy)


def geometries(features: list[Any], check: GeoJsonCheck) -> tuple[Geoms, list[Issue]]:
    """One geometry (or None) per feature; the features GEOS could not read, with its reason."""
    out: Geoms = np.full(len(features), None, dtype=object)
    failed = check.failed_features
    parts = _Parts()
    one_by_one: list[int] = []
    for i, feature in enumerate(features):
        if i in failed:
            continue
        geometry = feature.get("geometry")
        if geometry is None:
            continue
        kind = geometry.get("type")
        if i in check.three_d:
            done = False
        elif kind == "Polygon":
            done = parts.polygons(i, (geometry["coordinates"],), multi=False)
        elif kind == "MultiPolygon":
            done = parts.polygons(i, geometry["coordinates"], multi=True)
        elif kind == "LineString":
            done = parts.line(i, geometry["coordinates"])
        elif kind == "Point":
            parts.point_xy.append(geometry["coordinates"])
            parts.point_owner.append(i)
            done = True
        else:
            done = False
        if not done:
            one_by_one.append(i)
    parts.build(out)
    issues = []
    for i in one_by_one:
        try:
            out[i] = shapely.from_geojson(orjson.dumps(features[i]["geometry"]))
        except (shapely.errors.GEOSException, ValueError) as e:
            reason = str(e).removeprefix("ParseException: ")[:160]
            issues.append(Issue(reason=f"unreadable geometry: {reason}", feature=i, field=GEOMETRY))
    return out, issues


def plain(features: list[Any]) -> Geoms | None:
    """The geometries of features that are all plain, gathered in one pass: Features whose
    geometry is a Point, a LineString of 2+ positions, or a Polygon or MultiPolygon of closed
    rings of 4+ positions, every position two numbers. None when any feature is not so (the
    feature-by-feature checks then decide). Call only on what orjson parsed: no NaN, no
    Infinity."""
    parts = _Parts()
    positions = parts.positions
    extend, ring_sizes = positions.extend, parts.ring_sizes
    polygon_rings, polygon_owner = parts.polygon_rings, parts.polygon_owner
    for i, feature in enumerate(features):
        if type(feature) is not dict or feature.get("type") != "Feature":
            return None
        geometry = feature.get("geometry")
        if type(geometry) is not dict:
            return None
        kind = geometry.get("type")
        coords = geometry.get("coordinates")
        if type(coords) is not list or not coords:
            return None
        if kind == "Polygon":
            for ring in coords:
                if type(ring) is not list or len(ring) < 4 or ring[0] != ring[-1]:
                    return None
                extend(ring)
                ring_sizes.append(len(ring))
            polygon_rings.append(len(coords))
            polygon_owner.append(i)
        elif kind == "MultiPolygon":
            for rings in coords:
                if type(rings) is not list or not rings:
                    return None
                for ring in rings:
                    if type(ring) is not list or len(ring) < 4 or ring[0] != ring[-1]:
                        return None
            parts.polygons(i, coords, multi=True)
        elif kind == "LineString":
            if not parts.line(i, coords):
                return None
        elif kind == "Point":
            parts.point_xy.append(coords)
            parts.point_owner.append(i)
        else:
            return None
    try:
        every = (positions, parts.line_positions, parts.point_xy)
        if set(chain.from_iterable(map(len, p) for p in every)) - {2}:
            return None
    except TypeError:
        return None
    numbers = chain.from_iterable(chain.from_iterable(every))
    if not set(map(type, numbers)) <= _NUMBER_TYPES:
        return None
    out: Geoms = np.full(len(features), None, dtype=object)
    parts.build(out)
    return out


_NUMBER_TYPES = {float, int}


def attributes(features: list[Any]) -> pd.DataFrame:
    """The features' properties as columns (first seen first); a feature's `id` as column `id`
    when no property has that name."""
    records = []
    ids: list[Any] = []
    for feature in features:
        props = feature.get("properties") if isinstance(feature, dict) else None
        records.append(props if isinstance(props, dict) else {})
        ids.append(feature.get("id") if isinstance(feature, dict) else None)
    keys = dict.fromkeys(chain.from_iterable(records))
    frame = pd.DataFrame(
        {key: [r.get(key) for r in records] for key in keys}, index=range(len(features))
    )
    if "id" not in frame.columns and any(v is not None for v in ids):
        frame["id"] = pd.Series(ids, dtype=object)
    return frame
