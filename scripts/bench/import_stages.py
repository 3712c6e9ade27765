"""Where the time of `wangge import buildings` goes: the stages of one import, timed in process.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/import_stages.py \
        --buildings 100000 --runs 3

Writes the same GeoJSON as import_buildings.py, creates a scratch database, and runs
`import_file` (the command's own function, in this process) on it `--runs` times, `buildings`
emptied before each. Each stage is timed by wrapping the function that does it; the stages
that are not one function (the parse of each chunk, between the reads) are what remains.
Also times the command's start-up (`wangge import buildings --help` as a child process).
Prints the median of every stage over the runs.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from import_buildings import WANGGE, write_buildings
from measure import machine, scratch_database
from sqlalchemy import text

from geodata.imports import copy_in, geojson_stream, load, validate
from geodata.imports.readers import geojson as geojson_reader
from geodata.imports.report import Layer, ReadOptions

DATABASE = "wangge_bench_import_stages"
# Each function is wrapped in the module its caller looks it up in.
STAGES: list[tuple[str, Any, str]] = [
    ("byte scan (depth, colons, feature ranges)", geojson_stream, "scan_layout"),
    ("geometries and attributes of each chunk", geojson_reader, "geojson_frame"),
    ("CRS pass and the chunk's final frame", geojson_reader, "finish"),
    ("validation (fields, ids, geometry checks)", validate.Validator, "chunk"),
    ("COPY text and sending it", copy_in.CopyStream, "write"),
    ("end of COPY (the server's backlog)", copy_in.CopyStream, "close"),
    ("read, check and COPY of every chunk", load, "_stage"),
]


def _timing(spent: dict[str, float], name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def timed_call(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started

    return timed_call


def startup_seconds(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(WANGGE), "import", "buildings", "--help"], check=True,
                       capture_output=True)  # fmt: skip
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    spent: dict[str, float] = defaultdict(float)
    for name, owner, attribute in STAGES:
        setattr(owner, attribute, _timing(spent, name, getattr(owner, attribute)))
    runs: list[dict[str, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="wangge-bench-") as tmp,
        scratch_database(DATABASE, fresh=True) as owner_engine,
    ):
        path = Path(tmp) / "buildings.geojson"
        write_buildings(path, args.buildings)
        for _ in range(args.runs):
            with owner_engine.begin() as conn:
                conn.execute(text("TRUNCATE buildings CASCADE"))
            spent.clear()
            started = time.perf_counter()
            with owner_engine.begin() as conn:
                report = load.import_file(
                    conn, Layer.BUILDINGS, path, ReadOptions(),
                    repair=False, dry_run=False, actor="bench",
                )  # fmt: skip
                assert report.inserted == args.buildings, report
                in_file = time.perf_counter() - started
            total = time.perf_counter() - started
            stage = dict(spent)
            stage["after the chunks: index builds, key checks, audit"] = (
                in_file - stage["read, check and COPY of every chunk"]
            )
            stage["commit"] = total - in_file
            stage["import_file and commit"] = total
            runs.append(stage)
    startup = startup_seconds(args.runs)

    print(f"machine: {machine()}", file=sys.stderr)
    print(f"{args.buildings:,} buildings, median of {args.runs} runs (seconds):")
    print(f"  command start-up (`wangge import buildings --help`): {startup:.3f}")
    order = [name for name, _, _ in STAGES] + [
        "after the chunks: index builds, key checks, audit",
        "commit",
        "import_file and commit",
    ]
    for name in order:
        print(f"  {name}: {statistics.median(r[name] for r in runs):.3f}")
    rest = [
        r["read, check and COPY of every chunk"] - sum(r[n] for n, _, _ in STAGES[:-1])
        for r in runs
    ]
    print(
        f"  the rest of the chunk loop (orjson parse, member counts): {statistics.median(rest):.3f}"
    )


if __name__ == "__main__":
    main()
