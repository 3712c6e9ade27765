"""Time `load_synthetic` (generation, COPY and commit) into fresh databases of the local cluster.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/synthetic_load.py \
        --households 1000000 --runs 3

Each run creates a database, migrates it, loads the town and commits (timed),
counts the rows, then drops the database. Prints every run and the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import measure
import orjson
from sqlalchemy import text

from geodata import db
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.db.stats import table_counts
from geodata.samples.synthetic import SyntheticSpec, load_synthetic
from geodata.settings import Settings


def one_run(
    cluster: LocalCluster, spec: SyntheticSpec, name: str, *, progress: bool
) -> dict[str, object]:
    cluster.drop_database(name)
    cluster.ensure_database(name)
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=name))
    try:
        migrate.upgrade(owner, app_role=APP_ROLE)
        started = time.perf_counter()
        with owner.begin() as conn:
            loaded = load_synthetic(conn, spec, progress=progress)
        seconds = time.perf_counter() - started
        with owner.connect() as conn:
            counts = {k: v for k, v in table_counts(conn).items() if v}
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        assert all(counts.get(k, 0) == v for k, v in loaded.items()), (counts, loaded)
    finally:
        owner.dispose()
        cluster.drop_database(name)
    rows = sum(loaded.values())
    return {
        "seconds": round(seconds, 2),
        "rows": rows,
        "rows_per_second": round(rows / seconds),
        "database_bytes": int(size),
        "counts": counts,
    }


def machine(cluster: LocalCluster) -> dict[str, object]:
    return {**measure.machine(), "postgis": cluster.postgis_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, required=True)
    parser.add_argument("--villages", type=int)
    parser.add_argument("--grids", type=int)
    parser.add_argument("--checkpoints", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--progress", action="store_true", help="show the progress bar")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()

    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    spec = SyntheticSpec.from_counts(
        households=args.households,
        villages=args.villages,
        grids=args.grids,
        checkpoints=args.checkpoints,
        seed=args.seed,
    )
    runs = []
    for i in range(args.runs):
        result = one_run(cluster, spec, f"wangge_bench_{os.getpid()}_{i}", progress=args.progress)
        runs.append(result)
        print(
            f"run {i + 1}: {result['seconds']} s, {result['rows']} rows, "
            f"{result['rows_per_second']} rows/s",
            file=sys.stderr,
        )
    seconds = [float(str(r["seconds"])) for r in runs]
    median = statistics.median(seconds)
    rows = int(str(runs[0]["rows"]))
    summary = {
        "spec": {
            "households": spec.households,
            "villages": spec.villages,
            "grids": spec.grids,
            "checkpoints": spec.checkpoints,
            "seed": spec.seed,
        },
        "machine": machine(cluster),
        "runs_seconds": seconds,
        "median_seconds": median,
        "rows": rows,
        "median_rows_per_second": round(rows / median),
        "database_bytes": runs[0]["database_bytes"],
        "counts": runs[0]["counts"],
    }
    if args.json:
        sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(f"households {spec.households}: median {median:.1f} s over {len(seconds)} runs "
              f"{seconds}; {rows} rows, {rows / median:,.0f} rows/s")  # fmt: skip


if __name__ == "__main__":
    main()
