"""The solves behind `assign`: everyone placed at the least distance when that is feasible,
otherwise the most people placed and then the least distance."""

from __future__ import annotations

import numpy as np

from geodata.analysis.isolation.inputs import Floats, Ints
from geodata.analysis.isolation.model import (
    INF,
    INFEASIBLE,
    OPTIMAL,
    TIME_LIMIT,
    Clock,
    Columns,
    Result,
    make_solver,
    run,
    run_whole,
    warm_start,
)

FIRST_GAP = 1e-3
"""Households: the first MIP keeps the columns whose LP reduced cost is at most this share of
the LP bound. It sets only the speed: a second, larger MIP follows when the first cannot prove
its answer optimal."""


def solve_columns(columns: Columns, capacity: Ints, *, integer: bool, clock: Clock) -> Result:
    """The column values of the lexicographic optimum: the most people, then the least metres."""
    wanted = float(columns.size[columns.has_column].sum())
    if wanted <= float(capacity.sum()):
        if integer:
            result = _by_reduced_costs(columns, capacity, clock, everyone=True)
        else:
            result = run_whole(make_solver(columns, capacity, integer=False, everyone=True), clock)
        if result[0] != INFEASIBLE:
            return result
    return _most_then_nearest(columns, capacity, integer=integer, clock=clock)


def _by_reduced_costs(
    columns: Columns,
    capacity: Ints,
    clock: Clock,
    *,
    everyone: bool,
    least_people: float | None = None,
    start: Floats | None = None,
) -> Result:
    """The households' MIP by reduced-cost fixing. With the LP relaxation's bound `lb` and
    reduced costs `r`, any placement that uses column k costs at least lb + r[k], so a column
    with lb + r[k] above a known placement's cost is in no optimum. The MIP is solved on the
    columns with r at most a guess (FIRST_GAP of the bound, or less with a `start`: a known
    placement); if its answer costs more than lb + guess, once more on the columns that answer
    does not rule out, starting from it."""
    relaxed = make_solver(
        columns, capacity, integer=False, everyone=everyone, least_people=least_people
    )
    status, _ = run(relaxed, clock)
    if status != OPTIMAL:
        return status, start
    bound = float(relaxed.getInfo().objective_function_value)
    reduced = np.asarray(relaxed.getSolution().col_dual, dtype=np.float64)
    slack = 1e-6 * max(1.0, abs(bound))  # the LP's tolerances, in the direction of keeping
    gap = FIRST_GAP * max(1.0, abs(bound))
    values = None
    if start is not None:
        values = np.round(start)
        gap = min(gap, float(columns.cost @ values) - bound + slack)
    while True:
        keep = reduced <= gap
        solver = make_solver(
            columns.subset(keep),
            capacity,
            integer=True,
            everyone=everyone,
            least_people=least_people,
        )
        if values is not None and not np.any(values[~keep] > 0.5):
            warm_start(solver, values[keep])
        status, part = run(solver, clock)
        if part is None:
            if status == INFEASIBLE and not keep.all():
                gap = np.inf  # too few columns for a placement: all of them
                continue
            return (TIME_LIMIT if values is not None else status), values
        values = np.zeros(columns.n_cols)
        values[keep] = np.round(part)
        if status != OPTIMAL:
            return status, values
        proved = float(columns.cost @ values) - bound + slack
        if proved <= gap or keep.all():
            return OPTIMAL, values
        gap = proved


def _most_then_nearest(columns: Columns, capacity: Ints, *, integer: bool, clock: Clock) -> Result:
    """Short of beds: the most people placed (objective: people), then the least distance with
    at least that many placed (one more row; households by reduced costs, from the first
    answer)."""
    solver = make_solver(columns, capacity, integer=integer, everyone=False)
    all_cols = np.arange(columns.n_cols, dtype=np.int32)
    solver.changeColsCost(columns.n_cols, all_cols, -columns.weight)
    first, most_values = run(solver, clock) if integer else run_whole(solver, clock)
    if most_values is None:
        return TIME_LIMIT, None
    most_values = np.round(most_values)
    most = float(columns.weight @ most_values)
    if integer:
        second, values = _by_reduced_costs(
            columns, capacity, clock, everyone=False, least_people=most, start=most_values
        )
    else:
        solver.changeColsCost(columns.n_cols, all_cols, columns.cost)
        solver.addRow(most, INF, columns.n_cols, all_cols, columns.weight)
        second, values = run_whole(solver, clock)
    if values is None:
        return TIME_LIMIT, most_values
    return (OPTIMAL if first == second == OPTIMAL else TIME_LIMIT), values
