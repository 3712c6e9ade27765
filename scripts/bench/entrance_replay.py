"""Time the entrance replay (`geodata.records.as_of.entrance_states`) that the map's
entrances and compounds layers and the entrances export run on every request, on the sample
town, optionally beside the same function of another checkout (run alternately in one
process, the same results checked).

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/entrance_replay.py \\
        --database wangge --runs 15 [--before /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import measure
import orjson
from sqlalchemy import Connection

from geodata import db
from geodata.db.cluster import OWNER_ROLE, LocalCluster
from geodata.records import as_of
from geodata.settings import Settings

Replay = Callable[[Connection, datetime], Any]


def _other(tree: Path) -> Replay:
    """`entrance_states` of the checkout at `tree` (its module loaded by path)."""
    spec = importlib.util.spec_from_file_location(
        "before_as_of", tree / "geodata" / "records" / "as_of.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    replay: Replay = module.entrance_states
    return replay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="wangge", help="a database holding a town")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", type=Path, help="another checkout to time beside this one")
    args = parser.parse_args()
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    engine = db.make_engine(cluster.url(role=OWNER_ROLE, database=args.database))
    sides: dict[str, Replay] = {"after": as_of.entrance_states}
    if args.before is not None:
        sides = {"before": _other(args.before), **sides}
    moment = datetime.now(UTC)
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    with engine.connect() as conn:
        results = {name: replay(conn, moment) for name, replay in sides.items()}
        assert len({orjson.dumps(r) for r in results.values()}) == 1, "the sides disagree"
        for _ in range(args.runs):
            for name, replay in sides.items():
                started = time.perf_counter()
                replay(conn, moment)
                seconds[name].append(time.perf_counter() - started)
        entrances = conn.exec_driver_sql("SELECT count(*) FROM entrances").scalar()
    medians = {name: round(statistics.median(s) * 1000, 1) for name, s in seconds.items()}
    report = {"machine": measure.machine(), "entrances": entrances, "median_ms": medians}
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
