"""Maximal covering (MCLP) and set covering (LSCP), solved exactly with HiGHS.

Sites may cost unequal amounts (staff per post): the budget is then a sum of costs, which is
the number of sites when every cost is 1. A greedy solution is computed first; it is the warm
start of the exact model and the answer when no exact solve is asked for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from highspy._core import _Highs
from numpy.typing import NDArray

from geodata.analysis.placement.demand_groups import DemandGroups, group_demand
from geodata.analysis.placement.dominance import dominated_sites
from geodata.analysis.placement.greedy import (
    covered_by,
    greedy_covering,
    greedy_maximal,
    prune_idle,
)
from geodata.errors import WanggeError

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Ints = NDArray[np.int64]

OPTIMAL = "optimal"
TIME_LIMIT = "time_limit"
GREEDY = "greedy"


class PlacementError(WanggeError):
    """The model has no solution (a budget too small, a share out of reach): bad input
    (exit code 1, HTTP 400)."""

    exit_code = 1


@dataclass(frozen=True)
class Placement:
    """A chosen set of sites and what it reaches.

    `status`: optimal, time_limit (the best found when time ran out; `gap` says how far from
    the bound it may be) or greedy (no exact solve). `covered`: per demand point.
    """

    status: str
    selected: Ints
    covered: Bools
    covered_weight: float
    total_weight: float
    cost: float
    gap: float
    bound: float
    greedy_weight: float
    solve_s: float

    @property
    def covered_share(self) -> float:
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 1.0


@dataclass(frozen=True)
class _Reduced:
    """Demand groups over the sites that may matter (`sites`: their positions in the input)."""

    groups: DemandGroups
    sites: Ints


def _reduce(reach: sp.csr_array, weights: Floats, costs: Floats, fixed: Bools) -> _Reduced:
    groups = group_demand(reach, weights)
    useful = ~dominated_sites(groups.reach, costs, fixed)
    sites = np.flatnonzero(useful).astype(np.int64)
    merged = group_demand(sp.csr_array(groups.reach[:, sites]), groups.weight)
    inside = groups.group_of >= 0
    group_of = np.full(len(weights), -1, dtype=np.int64)
    group_of[inside] = merged.group_of[groups.group_of[inside]]
    return _Reduced(DemandGroups(merged.reach, merged.weight, group_of), sites)


def _costs(n_sites: int, site_costs: Floats | None) -> Floats:
    if site_costs is None:
        return np.ones(n_sites)
    costs = np.asarray(site_costs, dtype=float)
    if costs.shape != (n_sites,) or not np.all(np.isfinite(costs)) or np.any(costs <= 0):
        raise ValueError("one positive cost per site")
    return costs


def _fixed(n_sites: int, fixed: Bools | None) -> Bools:
    if fixed is None:
        return np.zeros(n_sites, dtype=bool)
    mask = np.asarray(fixed, dtype=bool)
    if mask.shape != (n_sites,):
        raise ValueError("one fixed flag per site")
    return mask


def _solver(time_limit_s: float | None) -> _Highs:
    # The plain solver: highspy.Highs' callback wrapper prints a banner on stdout.
    solver = _Highs()
    solver.setOptionValue("output_flag", False)
    # The demand groups and dominated sites are already reduced; HiGHS' presolve costs
    # more than it saves on these models.
    solver.setOptionValue("presolve", "off")
    solver.setOptionValue("mip_rel_gap", 0.0)
    solver.setOptionValue("mip_abs_gap", 1e-7)
    if time_limit_s is not None:
        solver.setOptionValue("time_limit", float(time_limit_s))
    return solver


def _pass_model(
    solver: _Highs,
    *,
    maximize: bool,
    col_cost: Floats,
    col_lower: Floats,
    col_upper: Floats,
    integer: Bools,
    matrix: sp.csc_array,
    row_lower: Floats,
    row_upper: Floats,
) -> None:
    matrix = sp.csc_array(matrix)
    matrix.sort_indices()
    status = solver.passModel(
        int(matrix.shape[1]),
        int(matrix.shape[0]),
        int(matrix.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize),
        0.0,
        np.asarray(col_cost, dtype=np.float64),
        np.asarray(col_lower, dtype=np.float64),
        np.asarray(col_upper, dtype=np.float64),
        np.asarray(row_lower, dtype=np.float64),
        np.asarray(row_upper, dtype=np.float64),
        np.asarray(matrix.indptr, dtype=np.int32),
        np.asarray(matrix.indices, dtype=np.int32),
        np.asarray(matrix.data, dtype=np.float64),
        np.asarray(integer, dtype=np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model")


def _run(solver: _Highs, start: Floats, n_sites: int) -> tuple[str, Bools | None, float, float]:
    """Solve from a warm start: status, chosen sites (None: no solution), gap, bound."""
    warm = highspy.HighsSolution()
    warm.col_value = np.asarray(start, dtype=float).tolist()
    warm.value_valid = True
    solver.setSolution(warm)
    solver.run()
    model_status = solver.getModelStatus()
    info = solver.getInfo()
    if model_status == highspy.HighsModelStatus.kInfeasible:
        raise PlacementError("no set of sites meets the budget and the fixed sites")
    values = np.asarray(solver.getSolution().col_value, dtype=float)
    has_solution = info.primal_solution_status == highspy.kSolutionStatusFeasible
    chosen = values[:n_sites] > 0.5 if has_solution and len(values) >= n_sites else None
    status = OPTIMAL if model_status == highspy.HighsModelStatus.kOptimal else TIME_LIMIT
    gap = 0.0 if status == OPTIMAL else float(info.mip_gap)
    return status, chosen, gap, float(info.mip_dual_bound)


def _result(
    reduced: _Reduced,
    weights: Floats,
    costs: Floats,
    chosen: Bools,
    *,
    status: str,
    gap: float,
    bound: float,
    greedy_weight: float,
    started: float,
) -> Placement:
    groups = reduced.groups
    group_hit = covered_by(groups.reach, chosen)
    covered = np.zeros(len(weights), dtype=bool)
    inside = groups.group_of >= 0
    covered[inside] = group_hit[groups.group_of[inside]]
    covered_weight = float(weights[covered].sum())
    return Placement(
        status=status,
        selected=reduced.sites[np.flatnonzero(chosen)],
        covered=covered,
        covered_weight=covered_weight,
        total_weight=float(weights.sum()),
        cost=float(costs[chosen].sum()),
        gap=gap,
        bound=bound if np.isfinite(bound) else covered_weight,
        greedy_weight=greedy_weight,
        solve_s=time.perf_counter() - started,
    )


def _greedy_answer(
    reduced: _Reduced,
    weights: Floats,
    costs: Floats,
    greedy: Bools,
    greedy_weight: float,
    *,
    exact: bool,
    started: float,
) -> Placement:
    """The greedy sites as the answer: asked for, or exact already (nothing left to solve)."""
    return _result(
        reduced,
        weights,
        costs,
        greedy,
        status=OPTIMAL if exact else GREEDY,
        gap=0.0,
        bound=np.inf,
        greedy_weight=greedy_weight,
        started=started,
    )


def maximal_covering(
    reach: sp.csr_array,
    weights: Floats,
    *,
    budget: float,
    site_costs: Floats | None = None,
    fixed: Bools | None = None,
    exact: bool = True,
    time_limit_s: float | None = None,
) -> Placement:
    """Sites of total cost at most `budget` reaching the most demand weight.

    `reach`: demand × sites (1: the site reaches the point); `fixed`: sites kept whatever
    the model says (they count against the budget).
    """
    started = time.perf_counter()
    n_sites = reach.shape[1]
    weights = np.asarray(weights, dtype=float)
    if np.any(~np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("weights must be finite and not negative")
    costs, fixed_mask = _costs(n_sites, site_costs), _fixed(n_sites, fixed)
    if float(costs[fixed_mask].sum()) > budget + 1e-9:
        raise PlacementError("the kept sites alone need more than the budget")
    reduced = _reduce(reach, weights, costs, fixed_mask)
    groups, costs, fixed_mask = reduced.groups, costs[reduced.sites], fixed_mask[reduced.sites]
    n_sites = len(reduced.sites)
    greedy = greedy_maximal(groups.reach, groups.weight, costs, budget, fixed_mask)
    greedy_weight = float(groups.weight[covered_by(groups.reach, greedy)].sum())
    if not exact or not groups.size:
        return _greedy_answer(
            reduced, weights, costs, greedy, greedy_weight, exact=exact, started=started
        )
    n_groups = groups.size
    # Columns: x (sites, binary), then y (groups, 0..1); rows: y_k - sum x_j <= 0, budget.
    matrix = sp.vstack(
        [
            sp.hstack([-groups.reach, sp.identity(n_groups, format="csc")]),
            sp.hstack([sp.csr_array(costs[None, :]), sp.csr_array((1, n_groups))]),
        ],
        format="csc",
    )
    solver = _solver(time_limit_s)
    _pass_model(
        solver,
        maximize=True,
        col_cost=np.concatenate([np.zeros(n_sites), groups.weight]),
        col_lower=np.concatenate([fixed_mask.astype(float), np.zeros(n_groups)]),
        col_upper=np.ones(n_sites + n_groups),
        integer=np.concatenate([np.ones(n_sites, bool), np.zeros(n_groups, bool)]),
        matrix=sp.csc_array(matrix),
        row_lower=np.full(n_groups + 1, -np.inf),
        row_upper=np.concatenate([np.zeros(n_groups), [budget]]),
    )
    start = np.concatenate([greedy, covered_by(groups.reach, greedy)]).astype(float)
    status, chosen, gap, bound = _run(solver, start, n_sites)
    if chosen is None or float(groups.weight[covered_by(groups.reach, chosen)].sum()) < (
        greedy_weight
    ):
        chosen = greedy
    chosen = prune_idle(groups.reach, groups.weight, chosen, fixed_mask)
    return _result(
        reduced,
        weights,
        costs,
        chosen,
        status=status,
        gap=gap,
        bound=bound,
        greedy_weight=greedy_weight,
        started=started,
    )


def set_covering(
    reach: sp.csr_array,
    weights: Floats,
    *,
    share: float = 1.0,
    site_costs: Floats | None = None,
    fixed: Bools | None = None,
    exact: bool = True,
    time_limit_s: float | None = None,
) -> Placement:
    """The cheapest sites (fewest, with unit costs) reaching `share` of the demand weight.

    With share 1 every demand point must be reached (a point no site reaches makes it
    impossible); below 1 the weight reached must be at least that share of the total.
    """
    started = time.perf_counter()
    n_points, n_sites = reach.shape
    weights = np.asarray(weights, dtype=float)
    if not 0 < share <= 1:
        raise ValueError("share: more than 0 and at most 1")
    costs, fixed_mask = _costs(n_sites, site_costs), _fixed(n_sites, fixed)
    reduced = _reduce(reach, weights, costs, fixed_mask)
    groups, costs, fixed_mask = reduced.groups, costs[reduced.sites], fixed_mask[reduced.sites]
    n_sites = len(reduced.sites)
    every = share >= 1.0
    unreachable = int(np.count_nonzero(groups.group_of < 0))
    total = float(weights.sum())
    target = share * total
    if every and unreachable:
        raise PlacementError(f"{unreachable} of {n_points} demand points are beyond every site")
    reachable_weight = float(groups.weight.sum())
    if not every and reachable_weight < target - 1e-9:
        raise PlacementError(
            f"at most {reachable_weight / total:.2%} of the demand is within reach of the sites"
        )
    if every:
        # Every point counts, whatever its weight: the classic greedy on group counts.
        greedy = greedy_covering(
            groups.reach, np.ones(groups.size), costs, float(groups.size), fixed_mask
        )
    else:
        greedy = greedy_covering(groups.reach, groups.weight, costs, target, fixed_mask)
    greedy_weight = float(groups.weight[covered_by(groups.reach, greedy)].sum())
    if not exact or not groups.size:
        return _greedy_answer(
            reduced, weights, costs, greedy, greedy_weight, exact=exact, started=started
        )
    n_groups = groups.size
    solver = _solver(time_limit_s)
    if every:
        _pass_model(
            solver,
            maximize=False,
            col_cost=costs,
            col_lower=fixed_mask.astype(float),
            col_upper=np.ones(n_sites),
            integer=np.ones(n_sites, bool),
            matrix=sp.csc_array(groups.reach.astype(np.float64)),
            row_lower=np.ones(n_groups),
            row_upper=np.full(n_groups, np.inf),
        )
        start = greedy.astype(float)
    else:
        matrix = sp.vstack(
            [
                sp.hstack([-groups.reach, sp.identity(n_groups, format="csc")]),
                sp.hstack([sp.csr_array((1, n_sites)), sp.csr_array(groups.weight[None, :])]),
            ],
            format="csc",
        )
        _pass_model(
            solver,
            maximize=False,
            col_cost=np.concatenate([costs, np.zeros(n_groups)]),
            col_lower=np.concatenate([fixed_mask.astype(float), np.zeros(n_groups)]),
            col_upper=np.ones(n_sites + n_groups),
            integer=np.concatenate([np.ones(n_sites, bool), np.zeros(n_groups, bool)]),
            matrix=sp.csc_array(matrix),
            row_lower=np.concatenate([np.full(n_groups, -np.inf), [target - 1e-9]]),
            row_upper=np.concatenate([np.zeros(n_groups), [np.inf]]),
        )
        start = np.concatenate([greedy, covered_by(groups.reach, greedy)]).astype(float)
    status, chosen, gap, bound = _run(solver, start, n_sites)
    if chosen is None:
        chosen = greedy
    chosen = prune_idle(groups.reach, groups.weight, chosen, fixed_mask, every_row=every)
    return _result(
        reduced,
        weights,
        costs,
        chosen,
        status=status,
        gap=gap,
        bound=bound,
        greedy_weight=greedy_weight,
        started=started,
    )
