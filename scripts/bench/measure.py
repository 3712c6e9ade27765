"""What every benchmark here shares: the machine's facts, timed runs, a scratch database."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from geodata import db
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.samples.synthetic import SyntheticSpec, already_loaded, load_synthetic
from geodata.settings import Settings


def machine() -> dict[str, object]:
    """CPU count and model, memory and Python: the facts a figure needs beside it."""
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor(),
    )
    mem_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
    }


def timed(func: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Seconds of each of `runs` calls, and the last call's result."""
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        seconds.append(time.perf_counter() - started)
    return seconds, result


@contextmanager
def scratch_database(name: str, *, fresh: bool = False, drop: bool = True) -> Iterator[Engine]:
    """A migrated database of the embedded cluster, as the owner role; `fresh` empties it
    first, `drop` removes it after (keep it to rerun a benchmark without reloading)."""
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    if fresh:
        cluster.drop_database(name)
    cluster.ensure_database(name)
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=name))
    try:
        migrate.upgrade(owner, app_role=APP_ROLE)
        yield owner
    finally:
        owner.dispose()
        if drop:
            cluster.drop_database(name)


def map_town(households: int, seed: int) -> tuple[LocalCluster, str, Engine, Engine]:
    """The synthetic town the map benchmarks share, `wangge_bench_tiles_<households>_<seed>`
    (loaded on first use and kept): the cluster, the database's name, the owner and app
    engines."""
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    spec = SyntheticSpec.from_counts(households=households, seed=seed)
    name = f"wangge_bench_tiles_{spec.households}_{spec.seed}"
    owner, app = open_synthetic_town(cluster, spec, name)
    return cluster, name, owner, app


def open_synthetic_town(
    cluster: LocalCluster, spec: SyntheticSpec, name: str
) -> tuple[Engine, Engine]:
    """The owner and app engines of a scratch database holding the synthetic town of `spec`,
    migrated, loaded on first use and kept (reruns skip the load)."""
    cluster.ensure_database(name)
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=name))
    app = db.make_engine(cluster.url(role=APP_ROLE, database=name))
    migrate.upgrade(owner, app_role=APP_ROLE)
    with owner.begin() as conn:
        if not already_loaded(conn, spec):
            print(f"loading {spec.households} households into {name}", file=sys.stderr)
            load_synthetic(conn, spec, progress=False)
    return owner, app
