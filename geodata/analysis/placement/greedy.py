"""Greedy covering: the fast answer, and the warm start of the exact model."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Ints = NDArray[np.int64]


def greedy_maximal(
    reach: sp.csc_array, weight: Floats, costs: Floats, budget: float, fixed: Bools
) -> Bools:
    """Sites chosen by best uncovered weight per unit of cost until the budget is spent."""
    chosen = np.asarray(fixed, dtype=bool).copy()
    spent = float(costs[chosen].sum())
    covered = _covered(reach, chosen)
    transpose = sp.csr_array(reach.T).astype(np.float64)
    while True:
        gain = transpose @ (weight * ~covered)
        fits = ~chosen & (costs <= budget - spent + 1e-9) & (gain > 0)
        if not fits.any():
            return chosen
        ratio = np.where(fits, gain / costs, -np.inf)
        pick = int(np.argmax(ratio))
        chosen[pick] = True
        spent += float(costs[pick])
        covered |= _column(reach, pick)


def greedy_covering(
    reach: sp.csc_array, weight: Floats, costs: Floats, target: float, fixed: Bools
) -> Bools:
    """Sites chosen by best uncovered weight per unit of cost until `target` weight is covered."""
    chosen = np.asarray(fixed, dtype=bool).copy()
    covered = _covered(reach, chosen)
    transpose = sp.csr_array(reach.T).astype(np.float64)
    while float(weight[covered].sum()) < target - 1e-9:
        gain = transpose @ (weight * ~covered)
        fits = ~chosen & (gain > 0)
        if not fits.any():
            return chosen
        pick = int(np.argmax(np.where(fits, gain / costs, -np.inf)))
        chosen[pick] = True
        covered |= _column(reach, pick)
    return chosen


def _column(reach: sp.csc_array, site: int) -> Bools:
    hit = np.zeros(reach.shape[0], dtype=bool)
    hit[reach.indices[reach.indptr[site] : reach.indptr[site + 1]]] = True
    return hit


def _covered(reach: sp.csc_array, chosen: Bools) -> Bools:
    return np.asarray((reach @ chosen.astype(np.int64)) > 0)


def covered_by(reach: sp.csc_array, chosen: Bools) -> Bools:
    """Which rows some chosen site reaches."""
    return _covered(reach, np.asarray(chosen, dtype=bool))


def prune_idle(
    reach: sp.csc_array, weight: Floats, chosen: Bools, fixed: Bools, *, every_row: bool = False
) -> Bools:
    """Drop chosen sites (not fixed) whose removal uncovers no weight (`every_row`: no row).

    A solver may pick sites that add nothing once the optimum is reached.
    """
    chosen = np.asarray(chosen, dtype=bool).copy()
    count = reach @ chosen.astype(np.int64)
    for site in np.flatnonzero(chosen & ~fixed).tolist():
        rows = reach.indices[reach.indptr[site] : reach.indptr[site + 1]]
        alone = rows[count[rows] == 1]
        if not len(alone) or (not every_row and not float(weight[alone].sum()) > 0):
            chosen[site] = False
            count[rows] -= 1
    return chosen
