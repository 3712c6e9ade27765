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

from geodata.imports.geojson_text import GEOMETRY, GeoJsonCheck
from geodata.imports.report import Issue

Geoms = npt.NDArray[np.object_]


class _Parts:
    """Coordinates gathered for bulk construction, with the sizes that cut them apart."""

    def __init__(self) -> None:
        self.positions: list[list[float]] = []
        self.ring_sizes: list[int] = []
        self.polygon_rings: list[int] = []
        self.polygon_owner: list[int] = []
        self.multi: list[int] = []
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
        self.positions.extend(positions)
        self.line_sizes.append(len(positions))
        self.line_owner.append(i)
        return True

    def build(self, out: Geoms) -> None:
        n = len(self.positions)
        flat = np.fromiter(chain.from_iterable(self.positions), dtype=np.float64, count=2 * n)
        coords = flat.reshape(-1, 2)
        rings_end = int(sum(self.ring_sizes))
        if self.ring_sizes:
            ring_index = np.repeat(np.arange(len(self.ring_sizes)), self.ring_sizes)
            rings = np.asarray(shapely.linearrings(coords[:rings_end], indices=ring_index))
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
            lines = shapely.linestrings(coords[rings_end:], indices=line_index)
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
