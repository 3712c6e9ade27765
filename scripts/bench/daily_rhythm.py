"""Time the daily rhythm on a county: the day's unit reports (every grid, village and combat
unit with its figures from the records) and the whole town's task lists for tomorrow.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/daily_rhythm.py --runs 3

The county: 450,000 households in 900 grids (`wangge_bench_county_<seed>`, as
scripts/bench/state_change.py loads it), two grid workers made per grid for the run, all
rolled back at the end. Prints every run and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import measure
from sqlalchemy import text

from geodata.db.cluster import LocalCluster
from geodata.records import daily_reports, daily_tasks
from geodata.records.town_settings import town_timezone
from geodata.samples.synthetic import SyntheticSpec
from geodata.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    spec = SyntheticSpec.from_counts(
        households=450_000, grids=900, checkpoints=2_000, seed=args.seed
    )
    owner, _ = measure.open_synthetic_town(cluster, spec, f"wangge_bench_county_{args.seed}")
    with owner.connect() as conn, conn.begin() as outer:
        conn.execute(
            text(
                "WITH made AS (INSERT INTO users (username, role, active)"
                " SELECT 'bench-w' || g.id || '-' || k, 'grid_worker', true"
                " FROM grids g CROSS JOIN generate_series(1, 2) k RETURNING id, username)"
                " INSERT INTO user_grids (user_id, grid_id)"
                " SELECT m.id, split_part(substr(m.username, 8), '-', 1)::bigint FROM made m"
            )
        )
        now = datetime.now(UTC)
        today = now.astimezone(town_timezone(conn)).date()
        reports_s, tasks_s = [], []
        for run in range(args.runs):
            t0 = time.perf_counter()
            found = daily_reports.reports(conn, today, now)
            reports_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            lists = daily_tasks.build(conn, today + timedelta(days=1), now)
            tasks_s.append(time.perf_counter() - t0)
            print(f"run {run + 1}: reports {reports_s[-1]:.2f} s ({found['expected']} units),"
                  f" task lists {tasks_s[-1]:.2f} s ({len(lists['workers'])} workers)")  # fmt: skip
        outer.rollback()
    print(f"median: reports {statistics.median(reports_s):.2f} s,"
          f" task lists {statistics.median(tasks_s):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
