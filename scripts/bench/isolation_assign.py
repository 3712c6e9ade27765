"""Time the isolation bed assignment (`geodata.analysis.isolation.assign`) beside
scipy.optimize.milp on the same instance.

    .venv/bin/python scripts/bench/isolation_assign.py --runs 5 --ref-runs 5

The instance: 2,000 people in households of 1 to 5 (uniform), their homes in 40 villages of a
20 km × 20 km county (normal around each village's centre, sigma 600 m; one household in five
scattered over the county), 50 sites uniform over the county, Manhattan distances (the road
detour of a grid) in metres; 2,400 free beds (1.2 × the people) spread over the sites at
random, at least one each. Both modes: without keep_families (the transportation problem) and
with it (one unit per household). Each mode is run `--runs` times in one process and scipy's
milp `--ref-runs` times on a dense model of the same instance (one integer variable per
(person or household, site), all the rows as sparse matrices, mip_rel_gap 0). Prints every
run (wall and CPU seconds), the medians, the load average and both optima.

    .venv/bin/python scripts/bench/isolation_assign.py --runs 3 --ref-runs 0 --beds-per-person 0.9

Short of beds (1,800 for 2,000 people): the most people placed, then the least distance; no
reference (scipy's model here places everyone, infeasible then).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import measure
import numpy as np
import orjson
import scipy
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

from geodata.analysis.isolation import assign

PEOPLE = 2_000
SITES = 50
VILLAGES = 40
COUNTY_M = 20_000.0
BEDS_PER_PERSON = 1.2

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def county(seed: int, beds_per_person: float = BEDS_PER_PERSON) -> tuple[Floats, Ints, Ints]:
    """Distances (people × sites, metres), free beds per site and a household id per person."""
    rng = np.random.default_rng(seed)
    sizes: list[int] = []
    while sum(sizes) < PEOPLE:
        sizes.append(int(rng.integers(1, 6)))
    sizes[-1] -= sum(sizes) - PEOPLE
    n_households = len(sizes)
    villages = rng.uniform(0, COUNTY_M, size=(VILLAGES, 2))
    homes = villages[rng.integers(0, VILLAGES, n_households)]
    homes = homes + rng.normal(0, 600, size=homes.shape)
    scattered = rng.random(n_households) < 0.2
    homes[scattered] = rng.uniform(0, COUNTY_M, size=(int(scattered.sum()), 2))
    homes = np.clip(homes, 0, COUNTY_M)
    household = np.repeat(np.arange(n_households), sizes).astype(np.int64)
    people = homes[household] + rng.normal(0, 10, size=(PEOPLE, 2))  # the doors of a house
    sites = rng.uniform(0, COUNTY_M, size=(SITES, 2))
    distance = np.abs(people[:, None, :] - sites[None, :, :]).sum(axis=2)
    total_beds = round(beds_per_person * PEOPLE)
    beds = 1 + rng.multinomial(total_beds - SITES, np.ones(SITES) / SITES)
    return distance, beds.astype(np.int64), household


def scipy_milp(
    distance: Floats, beds: Ints, household: Ints, *, keep_families: bool
) -> tuple[float, int]:
    """The least total distance with everyone placed, by scipy's milp: (metres, people)."""
    unit_of = household if keep_families else np.arange(len(distance))
    n_units = int(unit_of.max()) + 1
    n_sites = distance.shape[1]
    size = np.bincount(unit_of, minlength=n_units).astype(np.float64)
    cost = np.zeros((n_units, n_sites))
    np.add.at(cost, unit_of, distance)
    n = n_units * n_sites
    var = np.arange(n)
    one_site = sp.csr_array((np.ones(n), (var // n_sites, var)), shape=(n_units, n))
    site_beds = sp.csr_array((np.repeat(size, n_sites), (var % n_sites, var)), shape=(n_sites, n))
    result = milp(
        cost.ravel(),
        constraints=[
            LinearConstraint(one_site, 1, 1),
            LinearConstraint(site_beds, -np.inf, beds.astype(np.float64)),
        ],
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0},
    )
    if not result.success:
        raise RuntimeError(f"scipy milp: {result.message}")
    placed = np.round(result.x).reshape(n_units, n_sites)
    return float(result.fun), round(float(size @ placed.sum(axis=1)))


def timed(func: Callable[[], Any], runs: int) -> tuple[list[float], list[float], Any]:
    """Wall and CPU seconds of each run (CPU: this process, all threads) and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = func()
        walls.append(round(time.perf_counter() - wall, 3))
        cpus.append(round(time.process_time() - cpu, 3))
        print(f"  {walls[-1]:.3f} s wall, {cpus[-1]:.3f} s CPU", file=sys.stderr)
    return walls, cpus, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ref-runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--beds-per-person",
        type=float,
        default=BEDS_PER_PERSON,
        help="below 1: short of beds (then give --ref-runs 0: the reference places everyone)",
    )
    args = parser.parse_args()
    distance, beds, household = county(args.seed, args.beds_per_person)
    report: dict[str, Any] = {
        "machine": measure.machine(),
        "scipy": scipy.__version__,
        "people": PEOPLE,
        "households": int(household.max()) + 1,
        "sites": SITES,
        "beds": int(beds.sum()),
        "seed": args.seed,
        "modes": {},
    }
    for keep_families in (False, True):
        mode = "keep_families" if keep_families else "people_alone"
        print(f"{mode}: ours", file=sys.stderr)
        walls, cpus, ours = timed(
            functools.partial(assign, distance, beds, household, keep_families=keep_families),
            args.runs,
        )
        report["modes"][mode] = {
            "ours": {
                "status": ours.status,
                "assigned": ours.assigned,
                "total_distance_m": round(ours.total_distance_m, 3),
                "runs_s": walls,
                "cpu_s": cpus,
                "median_s": round(statistics.median(walls), 3),
                "median_cpu_s": round(statistics.median(cpus), 3),
            }
        }
        if args.ref_runs < 1:
            continue
        print(f"{mode}: scipy milp", file=sys.stderr)
        ref_walls, ref_cpus, (ref_metres, ref_people) = timed(
            functools.partial(scipy_milp, distance, beds, household, keep_families=keep_families),
            args.ref_runs,
        )
        report["modes"][mode]["scipy_milp"] = {
            "assigned": ref_people,
            "total_distance_m": round(ref_metres, 3),
            "runs_s": ref_walls,
            "cpu_s": ref_cpus,
            "median_s": round(statistics.median(ref_walls), 3),
            "median_cpu_s": round(statistics.median(ref_cpus), 3),
        }
        report["modes"][mode]["same_optimum"] = ours.assigned == ref_people and abs(
            ours.total_distance_m - ref_metres
        ) <= 1e-6 * max(1.0, ref_metres)
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
