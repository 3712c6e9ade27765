"""Demand points reached by exactly the same sites act as one: merge them, summing weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class DemandGroups:
    """`reach`: groups × sites (only groups some site reaches); `group_of`: each point's group
    (-1: no site reaches it); `weight`: each group's total weight."""

    reach: sp.csc_array
    weight: Floats
    group_of: Ints

    @property
    def size(self) -> int:
        return len(self.weight)


def group_demand(reach: sp.csr_array, weights: Floats) -> DemandGroups:
    """Merge the rows of `reach` (demand × sites) that are equal; drop rows reaching nothing."""
    reach = sp.csr_array(reach)
    n_points, n_sites = reach.shape
    weights = np.asarray(weights, dtype=float)
    if len(weights) != n_points:
        raise ValueError("one weight per demand point")
    counts = np.diff(reach.indptr)
    # Two independent random fingerprints of each row's set of sites, and its size.
    rng = np.random.default_rng(20200101)
    keys = rng.random((n_sites, 2)) if n_sites else np.zeros((0, 2))
    fingerprint = reach.astype(np.float64) @ keys
    rows = np.flatnonzero(counts > 0)
    group_of = np.full(n_points, -1, dtype=np.int64)
    if not len(rows):
        empty = sp.csc_array((0, n_sites), dtype=np.int8)
        return DemandGroups(empty, np.zeros(0), group_of)
    table = np.column_stack([fingerprint[rows], counts[rows].astype(float)])
    _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    group_of[rows] = inverse
    weight = np.bincount(inverse, weights=weights[rows], minlength=len(first))
    grouped = sp.csc_array(reach[rows[first]])
    return DemandGroups(grouped, np.asarray(weight, dtype=float), group_of)
