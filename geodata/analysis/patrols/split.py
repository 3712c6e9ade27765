"""Blocks with more street than a zone can balance are split into parts of about SPLIT_M.

A rural face of the road network can hold tens of kilometres of road (the sample town's
largest: 22.6 km, 18 walking hours, more than a mean zone of 24): whole blocks then cannot be
balanced. Such a block's segments are grouped by k-means on points along them (each segment
whole, in the group of most of its points), and the block's outline is cut between the
groups along the Voronoi edges of those points: each part is the block's area nearest its
segments. A part left in several pieces by the cut gives its smaller pieces to the part they
share most boundary with; a block whose parts cannot be made one piece each stays whole.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.cluster.vq import ClusterError, kmeans2

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Geoms = NDArray[np.object_]

SPLIT_M = 5_000.0
"""A block with more road than this is cut into ceil(road / SPLIT_M) parts."""

STEP_M = 20.0
"""Points along the segments, this far apart, seed the cut."""

SEED = 2020


def _points(lines: Geoms) -> tuple[Floats, Ints]:
    """Points every STEP_M along each line (at least its midpoint), with the line's number."""
    xy, owner = [], []
    for n, line in enumerate(lines.tolist()):
        count = max(1, int(shapely.length(line) // STEP_M))
        at = (np.arange(count) + 0.5) / count
        pts = shapely.line_interpolate_point(line, at, normalized=True)
        xy.append(shapely.get_coordinates(pts))
        owner.append(np.full(count, n, dtype=np.int64))
    return np.concatenate(xy), np.concatenate(owner)


def _groups(xy: Floats, owner: Ints, lines: int, parts: int) -> Ints | None:
    """Each line's group: k-means on the points, each line in the group of most of its points
    (None: k-means left a group empty)."""
    try:
        _, label = kmeans2(xy, parts, seed=SEED, minit="++", iter=20, missing="raise")
    except ClusterError:
        return None
    votes = np.zeros((lines, parts), dtype=np.int64)
    np.add.at(votes, (owner, label), 1)
    return np.asarray(np.argmax(votes, axis=1), dtype=np.int64)


def _cells(
    block: shapely.Polygon, xy: Floats, label: Ints, parts: int
) -> list[shapely.Geometry] | None:
    """The block's area nearest each group's points (None: points that coincide carry
    different groups)."""
    xy, first, where = np.unique(xy, axis=0, return_index=True, return_inverse=True)
    if (label[first][where.ravel()] != label).any():
        return None
    label = label[first]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=block, ordered=True)
    )
    if len(cells) != len(xy):
        return None
    return [shapely.intersection(shapely.union_all(cells[label == g]), block) for g in range(parts)]


def _one_piece_each(pieces: list[shapely.Geometry]) -> list[shapely.Polygon] | None:
    """Smaller pieces of a part go to the part they share the most boundary with."""
    polygons: list[list[shapely.Polygon]] = [
        [p for p in shapely.get_parts(g).tolist() if isinstance(p, shapely.Polygon)] for g in pieces
    ]
    if any(not p for p in polygons):
        return None
    main: list[shapely.Geometry] = [max(p, key=lambda x: x.area) for p in polygons]
    for g, group in enumerate(polygons):
        for stray in group:
            if stray is main[g]:
                continue
            shared = [
                shapely.length(
                    shapely.intersection(stray.boundary, shapely.buffer(shapely.boundary(m), 0.01))
                )
                if h != g
                else 0.0
                for h, m in enumerate(main)
            ]
            if max(shared) <= 0:
                return None
            h = int(np.argmax(shared))
            main[h] = shapely.union(main[h], stray)
    whole = [m for m in main if isinstance(m, shapely.Polygon)]
    return whole if len(whole) == len(main) else None


def split_block(
    block: shapely.Polygon, segments: Geoms, road_m: float
) -> list[shapely.Polygon] | None:
    """The block's parts, or None when it stays whole (which part a segment bounds or lies in
    is found with every other block's, in `blocks.py`)."""
    parts = int(np.ceil(road_m / SPLIT_M))
    if parts < 2 or len(segments) < parts:
        return None
    xy, owner = _points(np.asarray(segments, dtype=object))
    group = _groups(xy, owner, len(segments), parts)
    if group is None:
        return None
    used = np.unique(group)
    if len(used) < 2:
        return None
    group = np.searchsorted(used, group).astype(np.int64)
    cells = _cells(block, xy, group[owner], len(used))
    return None if cells is None else _one_piece_each(cells)
