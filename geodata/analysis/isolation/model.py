"""The model handed to HiGHS: one column per unit (a person, or a household) and site it can
use, a row per unit (at most one site; exactly one when everyone is to be placed) and a row per
site (its beds)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
from highspy._core import _Highs
from numpy.typing import NDArray

from geodata.analysis.isolation.inputs import Floats, Ints

OPTIMAL = "optimal"
TIME_LIMIT = "time_limit"
INFEASIBLE = "infeasible"

INF = highspy.kHighsInf
_INTEGRAL_TOL = 1e-6

Result = tuple[str, Floats | None]
"""A solve's status (optimal, infeasible or time_limit) and its column values (None: none)."""


@dataclass(frozen=True)
class Columns:
    """Each column's unit, site, cost (the metres of all the unit's people) and weight (its
    people); `size`: people per unit; `has_column`: the units that can go somewhere."""

    unit: Ints
    site: Ints
    cost: Floats
    weight: Floats
    size: Floats
    has_column: NDArray[np.bool_]

    @property
    def n_units(self) -> int:
        return len(self.size)

    @property
    def n_cols(self) -> int:
        return len(self.unit)

    def subset(self, keep: NDArray[np.bool_]) -> Columns:
        return Columns(
            self.unit[keep],
            self.site[keep],
            self.cost[keep],
            self.weight[keep],
            self.size,
            self.has_column,
        )


def build_columns(dist: Floats, unit_of: Ints, capacity: Ints) -> Columns:
    """A unit's cost at a site is the sum of its people's distances; a column exists where
    every member reaches the site and the site has beds for all of them."""
    n_units = int(unit_of.max()) + 1 if len(unit_of) else 0
    size = np.bincount(unit_of, minlength=n_units).astype(np.float64)
    if n_units == len(unit_of):
        cost = np.empty_like(dist)
        cost[unit_of] = dist
    else:
        cost = np.zeros((n_units, dist.shape[1]))
        np.add.at(cost, unit_of, dist)
    usable = np.isfinite(cost) & (size[:, None] <= capacity[None, :])
    unit, site = np.nonzero(usable)
    return Columns(
        unit=unit.astype(np.int64),
        site=site.astype(np.int64),
        cost=cost[unit, site],
        weight=size[unit],
        size=size,
        has_column=np.asarray(usable.any(axis=1), dtype=np.bool_),
    )


def make_solver(
    columns: Columns,
    capacity: Ints,
    *,
    integer: bool,
    everyone: bool,
    least_people: float | None = None,
) -> _Highs:
    """HiGHS holding the model: minimise distance; `everyone`: each unit that has a column
    must be placed (otherwise at most once); `least_people`: one more row, at least that many
    people placed."""
    # The plain solver: highspy.Highs' callback wrapper prints a banner on stdout.
    solver = _Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("mip_rel_gap", 0.0)
    solver.setOptionValue("mip_abs_gap", 1e-6)
    if not integer:
        solver.setOptionValue("solver", "simplex")
    n_cols, n_units, n_sites = columns.n_cols, columns.n_units, len(capacity)
    # Column k has two entries: its unit's row (1) and its site's row (the unit's people).
    indices = np.empty(2 * n_cols, dtype=np.int32)
    indices[0::2] = columns.unit
    indices[1::2] = n_units + columns.site
    values = np.empty(2 * n_cols)
    values[0::2] = 1.0
    values[1::2] = columns.weight
    unit_lower = columns.has_column.astype(np.float64) if everyone else np.zeros(n_units)
    status = solver.passModel(
        n_cols,
        n_units + n_sites,
        2 * n_cols,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        columns.cost,
        np.zeros(n_cols),
        np.ones(n_cols),
        np.concatenate([unit_lower, np.full(n_sites, -INF)]),
        np.concatenate([np.ones(n_units), capacity.astype(np.float64)]),
        np.arange(0, 2 * n_cols + 1, 2, dtype=np.int32),
        indices,
        values,
        np.full(n_cols, 1 if integer else 0, dtype=np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model")
    if least_people is not None:
        # A whole number of people: with it the transportation model's vertices stay whole.
        all_cols = np.arange(n_cols, dtype=np.int32)
        solver.addRow(least_people, INF, n_cols, all_cols, columns.weight)
    return solver


class Clock:
    """What is left of the time limit, handed to each solve in turn."""

    def __init__(self, limit_s: float | None) -> None:
        if limit_s is not None and not limit_s > 0:
            raise ValueError("time_limit_s must be positive")
        self.started = time.perf_counter()
        self.limit_s = limit_s

    def arm(self, solver: _Highs) -> None:
        if self.limit_s is not None:
            left = self.limit_s - (time.perf_counter() - self.started)
            solver.setOptionValue("time_limit", max(left, 1e-3))


def run(solver: _Highs, clock: Clock) -> Result:
    clock.arm(solver)
    solver.run()
    model_status = solver.getModelStatus()
    if model_status in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        return INFEASIBLE, None
    feasible = solver.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible
    values = np.asarray(solver.getSolution().col_value, dtype=np.float64) if feasible else None
    if model_status == highspy.HighsModelStatus.kOptimal:
        return OPTIMAL, values
    if model_status == highspy.HighsModelStatus.kTimeLimit:
        return TIME_LIMIT, values
    raise RuntimeError(f"HiGHS stopped: {solver.modelStatusToString(model_status)}")


def run_whole(solver: _Highs, clock: Clock) -> Result:
    """Run an LP whose vertices are whole (totally unimodular): its answer if it is whole
    people; otherwise the same model solved again with integer columns."""
    status, values = run(solver, clock)
    if values is None or np.all(np.abs(values - np.round(values)) <= _INTEGRAL_TOL):
        return status, values
    n_cols = len(values)
    solver.changeColsIntegrality(
        n_cols, np.arange(n_cols, dtype=np.int32), np.ones(n_cols, dtype=np.uint8)
    )
    return run(solver, clock)


def warm_start(solver: _Highs, values: Floats) -> None:
    n_cols = len(values)
    solver.setSolution(n_cols, np.arange(n_cols, dtype=np.int32), np.round(values))
