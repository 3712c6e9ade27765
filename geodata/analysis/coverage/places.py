"""Which grid a point belongs to: the grid holding it, preferring the grids of its village."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Geoms = NDArray[np.object_]

TOUCH_M = 1.0
"""Points this close to a grid (on a shared edge, say) may belong to it."""


def grid_positions(
    points_xy: Floats,
    point_village_ids: Floats,
    grid_geoms_m: Geoms,
    grid_village_ids: Ints,
    tree: shapely.STRtree | None = None,
) -> Ints:
    """For each point (metres), the position of its grid (-1 when there are no grids).

    Among grids within TOUCH_M, those of the point's own village first (a village gate lies
    on the boundary two villages share), then the nearest; a point near no grid goes to
    the nearest grid of its village, else to the nearest grid.
    """
    n = len(points_xy)
    result = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(grid_geoms_m) == 0:
        return result
    tree = tree if tree is not None else shapely.STRtree(grid_geoms_m)
    points: Geoms = np.asarray(shapely.points(np.asarray(points_xy, dtype=float)), dtype=object)
    village = np.asarray(point_village_ids, dtype=float)
    gvillage = np.asarray(grid_village_ids, dtype=float)
    for radius in (TOUCH_M, np.inf):
        todo = np.flatnonzero(result < 0)
        if not len(todo):
            break
        if np.isfinite(radius):
            p, g = tree.query(points[todo], predicate="dwithin", distance=radius)
        else:
            p, g = tree.query_nearest(points[todo], all_matches=True)
            # The nearest of the own village's grids, where the point has a village.
            own = ~np.isnan(village[todo])
            if own.any():
                sub = todo[own]
                gv = np.flatnonzero(np.isin(gvillage, village[sub]))
                if len(gv):
                    own_tree = shapely.STRtree(grid_geoms_m[gv])
                    pp, gg = own_tree.query_nearest(points[sub], all_matches=False)
                    match = gvillage[gv[gg]] == village[sub[pp]]
                    result[sub[pp[match]]] = gv[gg[match]]
        _pick(result, todo, p, g, points, grid_geoms_m, village, gvillage)
    return result


def _pick(
    result: Ints,
    todo: Ints,
    p: Ints,
    g: Ints,
    points: Geoms,
    grids: Geoms,
    village: Floats,
    gvillage: Floats,
) -> None:
    """Per point, the candidate grid of its own village first, then the nearest, then the first."""
    if not len(p):
        return
    idx = todo[p]
    free = result[idx] < 0
    idx, g = idx[free], g[free]
    other = (gvillage[g] != village[idx]).astype(float)
    dist = shapely.distance(points[idx], grids[g])
    order = np.lexsort((g, dist, other, idx))
    idx, g = idx[order], g[order]
    first = np.r_[True, idx[1:] != idx[:-1]]
    result[idx[first]] = g[first]
