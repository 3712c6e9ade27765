"""Time the whole coverage report of a synthetic town: its inputs read, the report computed.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/coverage_report.py \
        --households 1000000 --runs 3

Opens (loading it on first use, then keeping it) the same scratch database as tiles.py and
first_paint.py, then for each run, in this process as the owner role: `fetch_inputs` as of
now, and `coverage_report` with every item listed (what `/api/v1/coverage?list=1` answers);
also `wangge coverage --format json` end to end as a child process. Prints each run and the
medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson
from measure import machine, map_town

from geodata.analysis.coverage.report import coverage_report
from geodata.db.cluster import OWNER_ROLE
from geodata.records.coverage_inputs import fetch_inputs

WANGGE = Path(sys.executable).with_name("wangge")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    cluster, name, owner, app = map_town(args.households, args.seed)
    url = cluster.url(role=OWNER_ROLE, database=name).render_as_string(hide_password=False)
    env = {**os.environ, "WANGGE_DATABASE_URL": url, "WANGGE_ADMIN_DATABASE_URL": url}
    runs: list[dict[str, float]] = []
    for run in range(args.runs):
        started = time.perf_counter()
        with owner.connect() as conn:
            inputs = fetch_inputs(conn)
        read = time.perf_counter() - started
        report = coverage_report(inputs, with_items=True)
        computed = time.perf_counter() - started - read
        size = len(orjson.dumps(report))
        started = time.perf_counter()
        subprocess.run([str(WANGGE), "coverage", "--format", "json"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        cli = time.perf_counter() - started
        runs.append({"read": read, "computed": computed, "cli": cli, "bytes": size})
        print(f"run {run + 1}: inputs read {read:.2f} s, report {computed:.2f} s "
              f"({size / 2**20:.1f} MiB of JSON with items), CLI {cli:.2f} s")  # fmt: skip
    owner.dispose()
    app.dispose()
    print(f"machine: {machine()}", file=sys.stderr)
    for key in ("read", "computed", "cli"):
        print(f"median {key}: {statistics.median(r[key] for r in runs):.2f} s")


if __name__ == "__main__":
    main()
