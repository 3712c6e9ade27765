"""Time checkpoint reach (straight line, with town/village/grid rollups) on a synthetic town.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/coverage_reach.py \
        --households 1000000 --checkpoints 500 --runs 5

Loads the town once into a scratch database of the local cluster (kept for the next run;
`--drop` removes it afterwards), times the database fetch on its own, then in the same
process, on the same points: our reach with rollups, a scipy cKDTree count (the floor) and
geopandas buffer + sjoin. The fetch includes projecting the points to the town's UTM zone,
once. Prints the medians and a Markdown section for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import shapely
from measure import machine, scratch_database, timed
from scipy.spatial import cKDTree

from geodata.analysis.coverage.inputs import CoverageInputs
from geodata.analysis.coverage.reach import checkpoint_radii_m
from geodata.analysis.coverage.report import FIGURES, _place, household_reach
from geodata.analysis.coverage.rollup import count_by_grid, roll_up
from geodata.records.coverage_inputs import fetch_inputs
from geodata.samples.synthetic import SyntheticSpec, already_loaded, load_synthetic


def reach_with_rollups(inputs: CoverageInputs) -> dict[str, Any]:
    """Project, find the reached households, count them per grid, sum up villages and town."""
    town = _place(inputs)
    _, reached = household_reach(town, radius_m=None, network=False)
    grid_pos = town.grid_of_ids(inputs.households["grid_id"])
    n = len(inputs.grids)
    per_grid = {
        "households": count_by_grid(grid_pos, n),
        "reached": count_by_grid(grid_pos, n, reached),
    }
    return roll_up(per_grid, inputs.grids, inputs.villages, np.ones(n, dtype=bool))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--checkpoints", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--drop", action="store_true", help="drop the scratch database after")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()

    spec = SyntheticSpec.from_counts(
        households=args.households, checkpoints=args.checkpoints, seed=args.seed
    )
    name = f"wangge_bench_coverage_{spec.households}_{spec.checkpoints}_{spec.seed}"
    with scratch_database(name, drop=args.drop) as owner:
        with owner.begin() as conn:
            if not already_loaded(conn, spec):
                print(f"loading {spec.households} households into {name}", file=sys.stderr)
                load_synthetic(conn, spec, progress=False)
        with owner.connect() as conn:
            fetch_s, inputs = timed(lambda: fetch_inputs(conn), 1)

    ours_s, report = timed(lambda: reach_with_rollups(inputs), args.runs)

    # The same points, as read (projected to the town's UTM zone), for the comparisons.
    epsg = inputs.metric_epsg()
    hh = inputs.households
    hh_xy = np.column_stack([hh["x"].to_numpy(float), hh["y"].to_numpy(float)])
    cps = inputs.checkpoints[inputs.checkpoints["active"].to_numpy(bool)]
    cp_xy = np.column_stack([cps["x"].to_numpy(float), cps["y"].to_numpy(float)])
    radii = checkpoint_radii_m(cps["radius_m"].to_numpy(float))

    def kdtree_count() -> int:
        tree = cKDTree(hh_xy, balanced_tree=False, compact_nodes=False)
        return int(np.sum(tree.query_ball_point(cp_xy, r=radii, return_length=True)))

    def buffer_sjoin() -> int:
        points = gpd.GeoDataFrame(geometry=shapely.points(hh_xy), crs=epsg)
        zones = gpd.GeoDataFrame(geometry=shapely.buffer(shapely.points(cp_xy), radii), crs=epsg)
        joined = gpd.sjoin(points, zones, predicate="intersects", how="inner")
        return int(joined.index.nunique())

    floor_s, pairs = timed(kdtree_count, args.runs)
    sjoin_s, sjoin_reached = timed(buffer_sjoin, args.runs)
    reached = report["town"]["reached"]
    hits = cKDTree(hh_xy).query_ball_point(cp_xy, r=radii)
    exact = len(np.unique(np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])))
    assert reached == exact, (reached, exact)

    summary = {
        "spec": {"households": len(hh), "checkpoints": len(cps), "grids": len(inputs.grids),
                 "villages": len(inputs.villages), "seed": spec.seed},
        "machine": machine(),
        "fetch_seconds": round(fetch_s[0], 3),
        "ours_median_seconds": round(statistics.median(ours_s), 3),
        "ckdtree_count_median_seconds": round(statistics.median(floor_s), 3),
        "geopandas_buffer_sjoin_median_seconds": round(statistics.median(sjoin_s), 3),
        "ours_over_floor": round(statistics.median(ours_s) / statistics.median(floor_s), 2),
        "reached": reached,
        "pairs_within_radius": pairs,
        "sjoin_reached": sjoin_reached,
        "runs": {"ours": ours_s, "ckdtree": floor_s, "sjoin": sjoin_s},
        "figures": [k for k in FIGURES if k in report["town"]],
    }  # fmt: skip
    if args.json:
        sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    s = summary
    print(
        f"households {len(hh):,}, checkpoints {len(cps)}, grids {len(inputs.grids)}: "
        f"fetch {s['fetch_seconds']} s; ours {s['ours_median_seconds']} s "
        f"(x{s['ours_over_floor']} of cKDTree {s['ckdtree_count_median_seconds']} s); "
        f"geopandas buffer + sjoin {s['geopandas_buffer_sjoin_median_seconds']} s; "
        f"reached {reached:,} (sjoin: {sjoin_reached:,}, its buffers are polygons)"
    )


if __name__ == "__main__":
    main()
