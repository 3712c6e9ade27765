"""Compare `wangge import buildings` from two source trees, run after run on one file.

    git worktree add /tmp/before <commit>
    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/import_ab.py \
        /tmp/before . --buildings 100000 --runs 8

The figures of single changes in docs/BENCHMARKS.md come from this: a shared machine drifts
by more than one change gains, so the two trees alternate, each run on an emptied
`buildings` table of one scratch database (migrated by this checkout), the command started
with `PYTHONPATH` set to the tree. Prints each tree's runs and median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from import_buildings import WANGGE, write_buildings
from measure import scratch_database
from sqlalchemy import text

from geodata.db.cluster import APP_ROLE, LocalCluster
from geodata.settings import Settings

DATABASE = "wangge_bench_import_ab"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs=2, type=Path, help="two checkouts: before, after")
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()

    cluster = LocalCluster(Settings.from_env().home)
    times: dict[Path, list[float]] = {tree.resolve(): [] for tree in args.trees}
    with (
        tempfile.TemporaryDirectory(prefix="wangge-bench-") as tmp,
        scratch_database(DATABASE, fresh=True) as owner,
    ):
        path = Path(tmp) / "buildings.geojson"
        write_buildings(path, args.buildings)
        env = {
            **os.environ,
            "WANGGE_DATABASE_URL": cluster.url(role=APP_ROLE, database=DATABASE).render_as_string(
                hide_password=False
            ),
            "WANGGE_ADMIN_DATABASE_URL": owner.url.render_as_string(hide_password=False),
        }
        command = [str(WANGGE), "import", "buildings", str(path), "--format", "json",
                   "--no-progress"]  # fmt: skip
        for _ in range(args.runs):
            for tree, seconds in times.items():
                with owner.begin() as conn:
                    conn.execute(text("TRUNCATE buildings CASCADE"))
                    conn.execute(text("DELETE FROM audit_events"))
                started = time.perf_counter()
                subprocess.run(command, env={**env, "PYTHONPATH": str(tree)}, check=True,
                               capture_output=True)  # fmt: skip
                seconds.append(time.perf_counter() - started)
    for tree, seconds in times.items():
        runs = " ".join(f"{s:.2f}" for s in seconds)
        print(f"{tree}: median {statistics.median(seconds):.3f} s  runs {runs}")
    print(f"{args.buildings:,} buildings, {args.runs} alternating runs", file=sys.stderr)


if __name__ == "__main__":
    main()
