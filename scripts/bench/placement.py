"""Time checkpoint placement (maximal covering with HiGHS) beside spopt's MCLP (PuLP + CBC).

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/placement.py --runs 3

Three instances, each solved `--runs` times in one process; figures are medians:

- spopt's San Francisco reference instance (205 tracts × 16 stores, network distances from
  the data inside the spopt wheel), S = 5000, p = 4: our optimum and spopt's, and the times.
- the sample town (loaded once into a scratch database of the local cluster, kept for the
  next run; `--drop` removes it afterwards): every building with households (weight:
  members) × every candidate site, R = 500 m, K = 5 and K = 10. Ours: `solve_plan` (reach
  matrix from two KD-trees, then HiGHS); spopt: the dense distance matrix, then
  `MCLP.from_cost_matrix` and CBC. Both start from the same points in memory; the database
  fetch is timed on its own.
- scale: 20,000 random demand points × 1,000 random candidates in a 10 km square (weights
  1-10, seed 1), K = 50, R = 500 m, with a 10 s time limit: status, gap, time.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pulp  # type: ignore[import-untyped]
import spopt  # type: ignore[import-untyped]
from measure import scratch_database, timed
from spopt.locate import MCLP  # type: ignore[import-untyped]

from geodata.analysis.coverage.metric import project_xy
from geodata.analysis.placement import cost_matrix_coverage, maximal_covering, straight_coverage
from geodata.analysis.placement.plan import PlanRequest, demand_epsg, solve_plan
from geodata.records.placement_inputs import fetch_plan_inputs
from geodata.samples.town import load_sample

SPOPT_DATA = Path(str(spopt.__file__)).parent / "tests" / "test_locate" / "data"
DATABASE = "wangge_bench_placement"


def median(seconds: list[float]) -> float:
    return round(statistics.median(seconds), 4)


def machine() -> dict[str, object]:
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor(),
    )
    import highspy

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "spopt": spopt.__version__,
        "pulp": pulp.__version__,
        "highspy": getattr(highspy, "__version__", "?"),
        "load_average": os.getloadavg(),
    }


def spopt_mclp(costs: np.ndarray, weights: np.ndarray, radius_m: float, p: int) -> float:
    """spopt's model built from a dense cost matrix and solved with CBC: the covered weight."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = MCLP.from_cost_matrix(costs, weights, radius_m, p)
        model.solve(pulp.PULP_CBC_CMD(msg=False))
    return float(pulp.value(model.problem.objective))


def san_francisco(runs: int) -> dict[str, Any]:
    distances = pd.read_csv(
        SPOPT_DATA / "SF_network_distance_candidateStore_16_censusTract_205_new.csv"
    )
    costs = distances.pivot_table(values="distance", index="DestinationName", columns="name")
    tracts = pd.read_csv(SPOPT_DATA / "SF_demand_205_centroid_uniform_weight.csv")
    weights = costs.index.map(tracts.set_index("NAME")["POP2000"].to_dict()).to_numpy(float)
    matrix = costs.to_numpy()

    def ours() -> Any:
        return maximal_covering(cost_matrix_coverage(matrix, 5000.0), weights, budget=4)

    ours_s, placement = timed(ours, runs)
    spopt_s, spopt_weight = timed(lambda: spopt_mclp(matrix, weights, 5000.0, 4), runs)
    return {
        "tracts": len(weights),
        "stores": matrix.shape[1],
        "status": placement.status,
        "covered_weight": placement.covered_weight,
        "total_weight": placement.total_weight,
        "covered_tracts": int(placement.covered.sum()),
        "covered_tract_pct": round(100 * float(placement.covered.sum()) / len(weights), 3),
        "spopt_covered_weight": spopt_weight,
        "ours_s": median(ours_s),
        "spopt_s": median(spopt_s),
        "runs": {"ours": ours_s, "spopt": spopt_s},
    }


def sample_town(runs: int, *, drop: bool) -> dict[str, Any]:
    with scratch_database(DATABASE, drop=drop) as owner:
        with owner.begin() as conn:
            load_sample(conn, seed=2020)
        with owner.connect() as conn:
            fetch_s, inputs = timed(lambda: fetch_plan_inputs(conn), 1)
    demand, sites = inputs.demand, inputs.sites
    weights = demand["weight"].to_numpy(float)

    def spopt_end_to_end(budget: int) -> float:
        epsg = demand_epsg(demand["lon"].to_numpy(float), demand["lat"].to_numpy(float))
        d_xy = project_xy(demand["lon"].to_numpy(float), demand["lat"].to_numpy(float), epsg)
        s_xy = project_xy(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), epsg)
        costs = np.hypot(d_xy[:, None, 0] - s_xy[None, :, 0], d_xy[:, None, 1] - s_xy[None, :, 1])
        return spopt_mclp(costs, weights, 500.0, budget)

    result: dict[str, Any] = {
        "demand_points": len(demand),
        "candidates": len(sites),
        "total_weight": float(weights.sum()),
        "fetch_s": round(fetch_s[0], 3),
        "budgets": {},
    }
    for budget in (5, 10):
        request = PlanRequest(radius_m=500.0, budget=budget)
        ours_s, plan = timed(functools.partial(solve_plan, demand, sites, request), runs)
        spopt_s, spopt_weight = timed(functools.partial(spopt_end_to_end, budget), runs)
        result["budgets"][budget] = {
            "status": plan["status"],
            "covered_weight": plan["covered_weight"],
            "covered_pct": plan["covered_pct"],
            "spopt_covered_weight": spopt_weight,
            "same_optimum": abs(plan["covered_weight"] - spopt_weight) < 1e-6,
            "ours_s": median(ours_s),
            "ours_build_s": plan["build_s"],
            "ours_solve_s": plan["solve_s"],
            "spopt_s": median(spopt_s),
            "speedup": round(statistics.median(spopt_s) / statistics.median(ours_s), 1),
            "runs": {"ours": ours_s, "spopt": spopt_s},
        }
    return result


def scale(runs: int, *, time_limit_s: float) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    demand_xy = rng.uniform(0, 10_000, (20_000, 2))
    sites_xy = rng.uniform(0, 10_000, (1_000, 2))
    weights = rng.integers(1, 11, 20_000).astype(float)

    def ours() -> Any:
        reach = straight_coverage(demand_xy, sites_xy, 500.0)
        return maximal_covering(reach, weights, budget=50, time_limit_s=time_limit_s)

    seconds, placements = [], []
    for _ in range(runs):
        started = time.perf_counter()
        placements.append(ours())
        seconds.append(time.perf_counter() - started)
    placement = placements[-1]
    return {
        "per_run": [
            {
                "s": round(t, 3),
                "status": p.status,
                "gap_pct": round(100 * p.gap, 4),
                "covered_weight": p.covered_weight,
            }
            for t, p in zip(seconds, placements, strict=True)
        ],
        "demand_points": 20_000,
        "candidates": 1_000,
        "status": placement.status,
        "gap_pct": round(100 * placement.gap, 4),
        "covered_weight": placement.covered_weight,
        "bound": placement.bound,
        "greedy_weight": placement.greedy_weight,
        "covered_pct": round(100 * placement.covered_share, 3),
        "seconds": median(seconds),
        "runs": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--time-limit-s", type=float, default=10.0)
    parser.add_argument("--drop", action="store_true", help="drop the scratch database after")
    parser.add_argument("--only", choices=["sf", "town", "scale"], default=None)
    args = parser.parse_args()
    summary: dict[str, Any] = {"machine": machine()}
    if args.only in (None, "sf"):
        summary["san_francisco"] = san_francisco(args.runs)
    if args.only in (None, "town"):
        summary["sample_town"] = sample_town(args.runs, drop=args.drop)
    if args.only in (None, "scale"):
        summary["scale"] = scale(args.runs, time_limit_s=args.time_limit_s)
    sys.stdout.write(
        orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n"
    )


if __name__ == "__main__":
    main()
