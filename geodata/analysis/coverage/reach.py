"""Checkpoint reach in straight line: which demand points lie within a checkpoint's radius."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geodata.analysis.coverage.inputs import DEFAULT_RADIUS_M

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


def checkpoint_radii_m(
    own_radius_m: Floats, *, radius_m: float | None = None, default_m: float = DEFAULT_RADIUS_M
) -> Floats:
    """Each checkpoint's reach: `radius_m` for all when given, else its own, else the default."""
    own = np.asarray(own_radius_m, dtype=float)
    if radius_m is not None:
        if not radius_m > 0:
            raise ValueError("radius_m must be positive")
        return np.full(len(own), float(radius_m))
    return np.where(np.isfinite(own) & (own > 0), own, default_m)


def straight_reached(points_xy: Floats, checkpoints_xy: Floats, radii_m: Floats) -> Bools:
    """Whether each point (metres, (n, 2)) lies within its radius of some checkpoint.

    The boundary counts as reached (distance <= radius).
    """
    n = len(points_xy)
    reached = np.zeros(n, dtype=bool)
    if n == 0 or len(checkpoints_xy) == 0:
        return reached
    radii = np.asarray(radii_m, dtype=float)
    if np.all(radii == radii[0]):
        # One radius: the nearest checkpoint decides, on a tree of the few checkpoints.
        tree = cKDTree(checkpoints_xy)
        dist, _ = tree.query(points_xy, k=1, distance_upper_bound=radii[0] * (1 + 1e-12))
        return np.asarray(dist <= radii[0])
    tree = cKDTree(points_xy, balanced_tree=False, compact_nodes=False)
    hits = tree.query_ball_point(checkpoints_xy, r=radii, return_sorted=False)
    found = [np.asarray(h, dtype=np.intp) for h in hits if len(h)]
    if found:
        reached[np.concatenate(found)] = True
    return reached
