"""Isolation beds: people waiting for concentrated isolation assigned to sites by free beds and
travel distance, solved exactly with HiGHS.

The answer is lexicographic: first the most people placed, then, among the assignments that
place that many, the least total distance. When the beds suffice (and every household fits at
a site all its members can reach) that is everyone, at the least total distance; when they fall
short it is as many people as can be placed, at the least total distance for that many. People
who can reach no site are not placed.

The units are people, or with `keep_families` households: all members at one site, the
household's size as its weight and the sum of its members' distances as its cost. One column
per unit and site it can use (every member reaches it, and it has beds for all of them).

- Without `keep_families` it is a transportation problem: its matrix is totally unimodular, so
  HiGHS' simplex solves it as an LP and returns whole people. The values are checked and, should
  one not be whole, the same model is solved again as a MIP.
- With `keep_families` it is a MIP with one binary per (household, site), reduced first by
  the LP relaxation's reduced costs (`solve.py` says how; the reduction is exact).

Reserve beds are part of a site's free beds and are held back unless `use_reserve`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from geodata.analysis.isolation.beds import hand_out_beds
from geodata.analysis.isolation.inputs import (
    Floats,
    Ints,
    bed_counts,
    distances,
    units_of,
    usable_beds,
)
from geodata.analysis.isolation.model import OPTIMAL, TIME_LIMIT, Clock, build_columns
from geodata.analysis.isolation.solve import solve_columns

__all__ = ["OPTIMAL", "TIME_LIMIT", "Assignment", "assign", "hand_out_beds"]


@dataclass(frozen=True)
class Assignment:
    """Where each person goes.

    `status`: optimal (the most people placed, then the least total distance, proved), or
    time_limit (the best found when time ran out; `site` is all -1 if none was found).
    `site`: per person, the index of their site, -1 when not placed. `load`: people per site.
    `reserve_used`: per site, the reserve beds taken (the load beyond the ordinary free beds;
    0 unless `use_reserve`). `solve_s`: seconds, model building included.
    """

    status: str
    site: Ints
    total_distance_m: float
    load: Ints
    reserve_used: Ints
    solve_s: float

    @property
    def assigned(self) -> int:
        return int(np.count_nonzero(self.site >= 0))

    @property
    def unassigned(self) -> int:
        return int(np.count_nonzero(self.site < 0))


def assign(
    distance_m: ArrayLike,
    free_beds: ArrayLike,
    household: ArrayLike | None = None,
    *,
    keep_families: bool,
    reserve_beds: ArrayLike | None = None,
    use_reserve: bool = False,
    time_limit_s: float | None = None,
) -> Assignment:
    """Assign people to isolation sites: the most people placed, then the least total distance.

    `distance_m`: people × sites, metres; inf or NaN where a person cannot reach a site.
    `free_beds`: per site, its free beds, reserve beds included. `household`: per person, a
    household id (numbers or strings); with `keep_families` a household goes to one site as a
    whole or is not placed; without it the ids are only checked (None: everyone alone).
    `reserve_beds`: per site, how many of its free beds are reserve: held back unless
    `use_reserve`. `time_limit_s`: for all the solves together (then status time_limit).
    Bad input raises ValueError naming the argument.
    """
    clock = Clock(time_limit_s)
    dist = distances(distance_m)
    n_people, n_sites = dist.shape
    free = bed_counts(free_beds, n_sites, "free_beds")
    capacity, ordinary = usable_beds(free, reserve_beds, use_reserve)
    families = units_of(household, n_people)
    unit_of = families if keep_families else units_of(None, n_people)
    columns = build_columns(dist, unit_of, capacity)
    status: str = OPTIMAL
    values: Floats | None = np.zeros(0)
    if columns.n_cols:
        status, values = solve_columns(columns, capacity, integer=keep_families, clock=clock)
    unit_site = np.full(columns.n_units, -1, dtype=np.int64)
    if values is not None:
        chosen = values > 0.5
        if np.any(np.bincount(columns.unit[chosen], minlength=columns.n_units) > 1):
            raise RuntimeError("HiGHS placed a unit at two sites")
        unit_site[columns.unit[chosen]] = columns.site[chosen]
    site = unit_site[unit_of]
    placed = np.flatnonzero(site >= 0)
    load = np.bincount(site[placed], minlength=n_sites).astype(np.int64)
    if np.any(load > capacity):
        raise RuntimeError("HiGHS filled a site beyond its beds")
    return Assignment(
        status=status,
        site=site,
        total_distance_m=float(dist[placed, site[placed]].sum()),
        load=load,
        reserve_used=np.maximum(load - ordinary, 0),
        solve_s=time.perf_counter() - clock.started,
    )
