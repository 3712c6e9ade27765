"""Grids of the sample town: households cut into balanced groups, villages partitioned exactly."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geodata.samples.osm_extract import WGS84
from geodata.samples.town.geometry import Geoms, Ints, locate, polygonal, to_metric, to_wgs84

GRID_MAX_HOUSEHOLDS = 300


def weighted_bisection(
    xy: npt.ArrayLike, weights: npt.ArrayLike, *, cap: float = GRID_MAX_HOUSEHOLDS
) -> Ints:
    """Group label of each point: recursive straight cuts until each group weighs <= cap.

    A group of weight W > cap is to become k = ⌈W / cap⌉ groups, so ⌊k/2⌋ go to one side
    of the cut and the rest to the other. The cut runs across the longer axis of the
    points (else across the other one) at the position where both sides can still be
    divided into groups of cap/2 to cap, nearest to the proportional share; when no such
    position exists, at the proportional share. Labels are numbered depth first, so
    neighbouring groups get near numbers.
    """
    points = np.asarray(xy, dtype=float).reshape(-1, 2)
    w = np.asarray(weights, dtype=float)
    labels = np.zeros(len(w), dtype=np.int64)
    stack = [np.arange(len(w))]
    group = 0
    while stack:
        idx = stack.pop()
        total = w[idx].sum()
        if total <= cap or len(idx) < 2:
            labels[idx] = group
            group += 1
            continue
        k = int(np.ceil(total / cap))
        left_k, right_k = k // 2, k - k // 2
        target = total * left_k / k
        low = max(total - cap * right_k, cap / 2 * left_k)
        high = min(cap * left_k, total - cap / 2 * right_k)
        span = points[idx].max(axis=0) - points[idx].min(axis=0)
        best: tuple[float, npt.NDArray[np.int64], int] | None = None
        for axis in np.argsort(-span, kind="stable"):
            ordered = idx[np.argsort(points[idx, axis], kind="stable")]
            left = np.cumsum(w[ordered])[:-1]
            miss = np.abs(left - target) + np.where((left >= low) & (left <= high), 0, total)
            cut = int(np.argmin(miss))
            if best is None or miss[cut] < best[0] - total / 2:
                best = (float(miss[cut]), ordered, cut + 1)
        assert best is not None
        _, ordered, cut = best
        stack.extend([ordered[cut:], ordered[:cut]])
    return labels


def balanced_groups(
    xy: npt.ArrayLike, weights: npt.ArrayLike, *, cap: float = GRID_MAX_HOUSEHOLDS
) -> Ints:
    """``weighted_bisection`` with the cuts turned by 0°, 15°, ... 165°: the turn giving the
    fewest groups outside cap/2 to cap (then the smallest worst deviation from 3/4 cap)."""
    points = np.asarray(xy, dtype=float).reshape(-1, 2)
    points = points - points.mean(axis=0) if len(points) else points
    w = np.asarray(weights, dtype=float)
    best: tuple[tuple[int, float], Ints] | None = None
    for angle in np.radians(np.arange(0, 180, 15)):
        turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        labels = weighted_bisection(points @ turn, w, cap=cap)
        sums = np.bincount(labels, weights=w)
        score = (
            int(((sums < cap / 2) | (sums > cap)).sum()),
            float(np.abs(sums - 0.75 * cap).max()),
        )
        if best is None or score < best[0]:
            best = (score, labels)
    assert best is not None
    return best[1]


def plan_grids(
    villages: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, Geoms]:
    """Grids partitioning every village (see ``town``), and village outlines
    noded with the grids' edges."""
    rows: list[pd.DataFrame] = []
    outlines = np.empty(len(villages), dtype=object)
    points_m = shapely.point_on_surface(buildings["geom_m"].to_numpy())
    for v, village in enumerate(villages.itertuples()):
        in_village = np.flatnonzero(buildings["village"].to_numpy() == v)
        member = buildings["compound"].to_numpy()[in_village]
        unit = np.where(member >= 0, member, len(compounds) + in_village)
        units = pd.DataFrame(
            {
                "unit": unit,
                "x": shapely.get_x(points_m[in_village]),
                "y": shapely.get_y(points_m[in_village]),
                "w": buildings["households"].to_numpy()[in_village],
            }
        ).groupby("unit", sort=True)
        summary = units.agg(x=("x", "mean"), y=("y", "mean"), w=("w", "sum"))
        unit_label = balanced_groups(summary[["x", "y"]].to_numpy(), summary["w"].to_numpy())
        label = pd.Series(unit_label, index=summary.index)[unit].to_numpy()
        own = np.flatnonzero(compounds["village"].to_numpy() == v)
        own_label = pd.Series(unit_label, index=summary.index).reindex(own).to_numpy()
        shapes, outlines[v] = village_partition(
            village.geometry,
            points_m[in_village],
            label,
            compounds.geometry.to_numpy()[own],
            own_label,
        )
        rows.append(
            pd.DataFrame(
                {
                    "village": v,
                    "code": [f"{village.code}{i + 1:02d}" for i in range(len(shapes))],
                    "name": [f"{village.name}第{i + 1:02d}网格" for i in range(len(shapes))],
                    "geometry": shapes,
                }
            )
        )
    grids = gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry", crs=WGS84)
    grids["source_id"] = "sample:grid/" + grids["code"]
    return grids, outlines


def village_partition(
    village: Any, points_m: Geoms, label: Ints, compounds: Geoms, compound_label: Any
) -> tuple[Geoms, Any]:
    """Multipolygons, one per label, covering the village without gap or overlap, and the
    village outline with the same vertices as the grids' outer edges.

    The village boundary, the boundaries of the labels' Voronoi regions and the compound
    rings are noded together and polygonised into faces; each face inside the village goes
    to its compound's label, else to its region's. Grids and outline are unions of faces,
    so they share their edges vertex for vertex: the partition is exact in any CRS and on
    the sphere, not only in planar longitude and latitude.
    """
    n = int(label.max()) + 1 if label.size else 1
    if n == 1:
        whole = polygonal([village])
        return whole, whole[0]
    coords = shapely.get_coordinates(points_m)
    _, first = np.unique(coords, axis=0, return_index=True)
    first = np.sort(first)
    xmin, ymin, xmax, ymax = shapely.bounds(to_metric([village])[0])
    frame = shapely.box(xmin - 2000, ymin - 2000, xmax + 2000, ymax + 2000)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(points_m[first]), extend_to=frame, ordered=True
        )
    )
    regions_m = np.array(
        [shapely.union_all(cells[label[first] == g]) for g in range(n)], dtype=object
    )
    regions = to_wgs84(regions_m)
    lines = np.concatenate(
        [[shapely.boundary(village)], shapely.boundary(regions), shapely.boundary(compounds)]
    )
    noded = shapely.get_parts(shapely.union_all(lines))
    faces = shapely.get_parts(shapely.polygonize(noded))
    probe = shapely.point_on_surface(faces)
    inside = shapely.intersects(probe, village)
    faces, probe = faces[inside], probe[inside]
    in_compound = locate(probe, compounds)
    region = locate(probe, regions)
    face_label = np.where(
        in_compound >= 0, np.asarray(compound_label)[np.maximum(in_compound, 0)], region
    )
    shapes = polygonal([shapely.coverage_union_all(faces[face_label == g]) for g in range(n)])
    shapes = absorb_crumbs(shapes, to_wgs84(points_m))
    return shapes, polygonal([shapely.coverage_union_all(faces)])[0]


def absorb_crumbs(shapes: Geoms, points: Geoms, *, max_area_m2: float = 500.0) -> Geoms:
    """Detached parts smaller than ``max_area_m2`` holding none of ``points`` join the
    neighbouring shape they share the longest edge with (shared edges stay exact)."""
    parts, owner = shapely.get_parts(shapes, return_index=True)
    area = shapely.area(to_metric(parts))
    largest = pd.Series(area).groupby(owner).transform("max").to_numpy()
    empty = np.bincount(locate(points, parts) + 1, minlength=len(parts) + 1)[1:] == 0
    crumbs = np.flatnonzero((area < max_area_m2) & (area < largest) & empty)
    if crumbs.size == 0:
        return shapes
    moved_to = owner.copy()
    for crumb in crumbs:
        shared = shapely.length(
            shapely.intersection(shapely.boundary(parts[crumb]), shapely.boundary(shapes))
        )
        shared[owner[crumb]] = 0.0
        if shared.max() > 0:
            moved_to[crumb] = int(np.argmax(shared))
    return polygonal([shapely.coverage_union_all(parts[moved_to == g]) for g in range(len(shapes))])
