"""An update of many households through the coverage cache's households trigger: the
function as joined (migration 0022) beside the function by EXCEPT (migration 0030), in one
run, on a town database of the embedded cluster; every update rolled back.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/households_trigger.py \
        --database wangge_bench_patrols --rows 2000,8000,all --runs 3
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time

from sqlalchemy import Connection, create_engine, text

from geodata.db.cluster import OWNER_ROLE, LocalCluster
from geodata.settings import Settings

LINEAR = importlib.import_module("geodata.migrations.versions.0030_coverage_cache_trigger_linear")


def _update(conn: Connection, body: str, rows: int | None) -> float:
    """Seconds of one update of `rows` households (None: all) with the trigger `body`."""
    tx = conn.begin()
    try:
        conn.execute(text(body))
        only = (
            "" if rows is None else " WHERE id IN (SELECT id FROM households ORDER BY id LIMIT :n)"
        )
        started = time.perf_counter()
        conn.execute(
            text(
                "UPDATE households SET last_visited_at ="  # noqa: S608 (a constant clause)
                " coalesce(last_visited_at, now()) + interval '1 second'" + only
            ),
            {"n": rows},
        )
        return time.perf_counter() - started
    finally:
        tx.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="wangge_bench_patrols")
    parser.add_argument("--rows", default="2000,8000,all")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    engine = create_engine(cluster.url(role=OWNER_ROLE, database=args.database))
    sizes = [None if r == "all" else int(r) for r in args.rows.split(",")]
    with engine.connect() as conn:
        for rows in sizes:
            for label, body in (
                ("joined", LINEAR.BODY.format(**LINEAR.JOINED)),
                ("except", LINEAR.BODY.format(**LINEAR.LINEAR)),
            ):
                times = [_update(conn, body, rows) for _ in range(args.runs)]
                print(f"{rows or 'all'} rows, {label}: median {statistics.median(times):.2f} s"
                      f" ({', '.join(f'{t:.2f}' for t in times)})")  # fmt: skip


if __name__ == "__main__":
    main()
