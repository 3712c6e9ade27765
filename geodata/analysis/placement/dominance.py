"""Sites whose reach another site of no greater cost contains: never needed for an optimum."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

SITES_PER_BLOCK = 2048


def dominated_sites(reach: sp.csc_array, costs: Floats, keep: Bools) -> Bools:
    """Sites (not in `keep`) whose rows another site reaches too, at no greater cost.

    Of two sites reaching the same rows at the same cost the later one is dropped. Swapping a
    dominated site for its dominator never loses coverage, so maximal and set covering keep
    their optimum without them.
    """
    n_sites = reach.shape[1]
    count = np.diff(reach.indptr)
    matrix = sp.csc_array(reach, dtype=np.int32)
    transposed = sp.csr_array(matrix.T)
    dominated = np.zeros(n_sites, dtype=bool)
    dominated[(count == 0) & ~keep] = True
    for start in range(0, n_sites, SITES_PER_BLOCK):
        block = np.arange(start, min(start + SITES_PER_BLOCK, n_sites))
        # overlap[j, k]: rows that sites j (in the block) and k both reach.
        overlap = sp.coo_array(transposed[block] @ matrix)
        j, k, shared = block[overlap.row], overlap.col, overlap.data
        contains = (shared == count[j]) & (j != k) & (costs[k] <= costs[j])
        strictly = (count[k] > count[j]) | (costs[k] < costs[j]) | (k < j)
        hit = j[contains & strictly]
        dominated[hit] = True
    dominated &= ~np.asarray(keep, dtype=bool)
    return dominated
