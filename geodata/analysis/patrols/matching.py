"""Exact minimum-weight perfect matching of the odd nodes, with HiGHS.

The matching is a 0/1 program: one column per pair of nodes (its cost the metres between
them), one row per node (exactly one pair holds it). Branch and bound on the complete graph
of a few hundred nodes is slow (26 s for 256 nodes here; networkx's blossom algorithm took
6 s, and 45 s for 400), because the relaxation with degree rows only is weak (its bound was
17 % under the optimum). So:

1. the relaxation is tightened with Edmonds' odd-set rows: while the solution has odd
   cycles of fractional pairs, each cycle's node set S gets sum(x inside S) <= (|S|-1)/2;
2. its optimum LB and reduced costs rc >= 0 (HiGHS's column duals) bound every matching:
   cost(x) >= LB + sum(rc x);
   (over the nearest pairs first; every other pair is priced with the duals and joins
   while its reduced cost is negative);
3. a matching over the pairs of smallest reduced cost gives an upper bound UB, and a pair
   with rc > UB - LB is in no matching cheaper than UB: dropped;
4. the 0/1 program over the pairs left, with the odd-set rows, solved to a zero gap, is the
   optimum over all pairs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
from highspy._core import _Highs
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

SLACK_M = 1e-6
NEAREST = 10
MAX_ROUNDS = 200
TIME_LIMIT_S = 5.0
"""Seconds for the relaxation, then for each 0/1 program."""


def _model(n: int, i: Ints, j: Ints, w: Floats, *, integer: bool) -> _Highs:
    cols = len(i)
    solver = _Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("mip_rel_gap", 0.0)
    solver.setOptionValue("mip_abs_gap", 1e-6)
    index = np.empty(2 * cols, dtype=np.int32)
    index[0::2], index[1::2] = i, j
    status = solver.passModel(
        cols,
        n,
        2 * cols,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        w,
        np.zeros(cols),
        np.ones(cols) if integer else np.full(cols, highspy.kHighsInf),
        np.ones(n),
        np.ones(n),
        np.arange(0, 2 * cols + 1, 2, dtype=np.int32),
        index,
        np.ones(2 * cols),
        np.full(cols, 1 if integer else 0, dtype=np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the matching model")
    return solver


def _add_odd_sets(solver: _Highs, i: Ints, j: Ints, sets: list[Bools]) -> None:
    for inside in sets:
        cols = np.flatnonzero(inside[i] & inside[j]).astype(np.int32)
        bound = (int(inside.sum()) - 1) / 2
        solver.addRow(-highspy.kHighsInf, bound, len(cols), cols, np.ones(len(cols)))


def _optimal(solver: _Highs) -> bool:
    solver.run()
    return bool(solver.getModelStatus() == highspy.HighsModelStatus.kOptimal)


def _odd_cycles(n: int, i: Ints, j: Ints, x: Floats) -> list[Bools]:
    frac = (x > 1e-6) & (x < 1 - 1e-6)
    if not frac.any():
        return []
    graph = csr_matrix((np.ones(int(frac.sum())), (i[frac], j[frac])), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    touched = np.zeros(n, dtype=bool)
    touched[i[frac]] = touched[j[frac]] = True
    sets = []
    for c in range(int(count)):
        inside = (label == c) & touched
        if inside.sum() % 2 == 1 and inside.sum() >= 3:
            sets.append(inside)
    return sets


def _pairs(solver: _Highs, i: Ints, j: Ints) -> list[tuple[int, int]]:
    x = np.asarray(solver.getSolution().col_value) > 0.5
    return list(zip(i[x].tolist(), j[x].tolist(), strict=True))


def _candidates(cost: Floats, i: Ints, j: Ints, reduced: Floats) -> Bools:
    n = len(cost)
    near = np.argsort(cost + np.diag(np.full(n, np.inf)), axis=1)[:, :NEAREST]
    mark = np.zeros((n, n), dtype=bool)
    mark[np.repeat(np.arange(n), near.shape[1]), near.ravel()] = True
    mark |= mark.T
    return np.asarray(mark[i, j] | (reduced < 1e-6))


class _OutOfTimeError(Exception):
    pass


def _relaxation(
    n: int, i: Ints, j: Ints, w: Floats, cost: Floats, deadline: float
) -> tuple[Floats, float, list[Bools]]:
    """Reduced costs of every pair and the optimum of the relaxation with odd-set rows.

    Column generation: the rows are tightened over the nearest pairs; the duals then price
    every pair, and the pairs of negative reduced cost join, until none is left.
    """
    active = _candidates(cost, i, j, np.ones(len(i)))
    sets: list[Bools] = []
    for _ in range(MAX_ROUNDS):
        cols = np.flatnonzero(active)
        relaxed = _model(n, i[cols], j[cols], w[cols], integer=False)
        _add_odd_sets(relaxed, i[cols], j[cols], sets)
        solved = True
        for _ in range(MAX_ROUNDS):
            if time.perf_counter() > deadline:
                raise _OutOfTimeError
            if not _optimal(relaxed):
                solved = False
                break
            x = np.asarray(relaxed.getSolution().col_value)
            found = _odd_cycles(n, i[cols], j[cols], x)
            if not found:
                break
            _add_odd_sets(relaxed, i[cols], j[cols], found)
            sets += found
        if not solved:  # the nearest pairs alone admit no matching: every pair takes part
            if active.all():
                raise RuntimeError("no perfect matching of the odd nodes")
            active[:] = True
            continue
        dual = np.asarray(relaxed.getSolution().row_dual, dtype=float)
        reduced = w - dual[:n][i] - dual[:n][j]
        binding = [
            (inside, mu)
            for inside, mu in zip(sets, dual[n:].tolist(), strict=True)
            if abs(mu) > 1e-12
        ]
        for inside, mu in binding:
            reduced[inside[i] & inside[j]] -= mu
        sets = [inside for inside, _ in binding]  # rows with no dual weight are not needed
        entering = (reduced < -1e-7) & ~active
        if not entering.any():
            return reduced, float(relaxed.getInfo().objective_function_value), sets
        active |= entering
    raise RuntimeError("matching relaxation did not converge")


def _greedy(cost: Floats) -> list[tuple[int, int]]:
    """Cheapest pairs first while both ends are free: a perfect matching, no bound."""
    n = len(cost)
    i, j = np.triu_indices(n, k=1)
    free = np.ones(n, dtype=bool)
    pairs = []
    for k in np.argsort(cost[i, j], kind="stable").tolist():
        a, b = int(i[k]), int(j[k])
        if free[a] and free[b]:
            free[a] = free[b] = False
            pairs.append((a, b))
    return pairs


@dataclass(frozen=True)
class Matching:
    """The pairs, and how many metres at most they may be over the optimum (0: proven; NaN:
    no bound was proven in the time allowed)."""

    pairs: list[tuple[int, int]]
    gap_m: float


def _total(cost: Floats, pairs: list[tuple[int, int]]) -> float:
    return float(sum(cost[a, b] for a, b in pairs))


def min_weight_perfect_matching(cost: Floats, *, time_limit_s: float = TIME_LIMIT_S) -> Matching:
    """Pairs (i, j), i < j, covering 0..n-1 once, of least total `cost[i, j]` (n even).

    The last 0/1 program stops after `time_limit_s`; its best pairs are then returned with
    the gap to the proven lower bound (in practice the bound closes on zones of up to about
    500 odd nodes)."""
    n = len(cost)
    if n % 2:
        raise ValueError("a perfect matching needs an even number of nodes")
    if n == 0:
        return Matching([], 0.0)
    cost = np.asarray(cost, dtype=float)
    i, j = np.triu_indices(n, k=1)
    w = cost[i, j]
    finite = np.isfinite(w)
    i, j, w = i[finite].astype(np.int64), j[finite].astype(np.int64), w[finite]
    try:
        reduced, lower, sets = _relaxation(n, i, j, w, cost, time.perf_counter() + time_limit_s)
    except _OutOfTimeError:  # no proven bound: the best matching over the nearest pairs
        take = _candidates(cost, i, j, np.ones(len(i)))
        trial = _model(n, i[take], j[take], w[take], integer=True)
        trial.setOptionValue("time_limit", float(time_limit_s))
        trial.run()
        if trial.getInfo().primal_solution_status != highspy.kSolutionStatusFeasible:
            return Matching(_greedy(cost), float("nan"))
        return Matching(_pairs(trial, i[take], j[take]), float("nan"))
    take = _candidates(cost, i, j, reduced)
    trial = _model(n, i[take], j[take], w[take], integer=True)
    _add_odd_sets(trial, i[take], j[take], sets)
    trial.setOptionValue("time_limit", float(time_limit_s))
    trial.run()
    feasible = trial.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible
    upper = float(trial.getInfo().objective_function_value) if feasible else np.inf
    if feasible and trial.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return Matching(_pairs(trial, i[take], j[take]), max(0.0, upper - lower))
    keep = reduced <= (upper - lower) + SLACK_M * max(1.0, lower)
    if np.isfinite(upper) and not (keep & ~take).any():
        return Matching(_pairs(trial, i[take], j[take]), 0.0)  # every better pair was tried
    final = _model(n, i[keep], j[keep], w[keep], integer=True)
    _add_odd_sets(final, i[keep], j[keep], sets)
    final.setOptionValue("time_limit", float(time_limit_s))
    if _optimal(final):
        return Matching(_pairs(final, i[keep], j[keep]), 0.0)
    bound = max(lower, float(final.getInfo().mip_dual_bound))
    found = final.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible
    candidates = [_pairs(final, i[keep], j[keep])] if found else []
    if np.isfinite(upper):
        candidates.append(_pairs(trial, i[take], j[take]))
    if not candidates:
        candidates.append(_greedy(cost))
    best = min(candidates, key=lambda p: _total(cost, p))
    return Matching(best, max(0.0, _total(cost, best) - bound))
