"""Export N buildings to GeoJSON with `wangge export` and with ogr2ogr (RFC7946=YES), same run.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/export_buildings.py \
        --buildings 1000000 --runs 3

Makes a scratch database of the local cluster with N building polygons (octagons, one in
ten named in Chinese, inserted with generate_series), then runs each exporter --runs times
as a child process: wall time, features per second and peak resident memory (wait4's
ru_maxrss of that child). Prints every run, the medians as JSON, then drops the database.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from sqlalchemy import text

from geodata import db
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.settings import Settings

DATABASE = "wangge_bench_export"
COLUMNS_SQL = (
    "SELECT b.id, b.name, b.floors, b.use, g.code AS grid, b.geom "
    "FROM buildings b LEFT JOIN grids g ON g.id = b.grid_id"
)


def fill(cluster: LocalCluster, n: int) -> None:
    cluster.drop_database(DATABASE)
    cluster.ensure_database(DATABASE)
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=DATABASE))
    try:
        migrate.upgrade(owner, app_role=APP_ROLE)
        with owner.begin() as conn:
            conn.execute(
                text(
                    """
                    INSERT INTO buildings (source_id, name, floors, use, geom)
                    SELECT 'bench:' || i,
                           CASE WHEN i % 10 = 0 THEN '第' || i || '号楼' END,
                           1 + i % 30,
                           CASE WHEN i % 3 = 0 THEN 'residential' ELSE 'yes' END,
                           ST_Buffer(
                               ST_SetSRID(ST_MakePoint(9.4 + (i % 2000) * 0.0002,
                                                       47.0 + (i / 2000) * 0.00015), 4326),
                               0.00005, 'quad_segs=2')
                    FROM generate_series(1, :n) AS i
                    """
                ),
                {"n": n},
            )
        with owner.begin() as conn:
            conn.execute(text("ANALYZE buildings"))
    finally:
        owner.dispose()


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak RSS in MB of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {stderr}")
    return seconds, usage.ru_maxrss / 1024


LIBRARY_CHILD = """
import sys
from pathlib import Path
from geodata import db
from geodata.auth.access import local_operator
from geodata.exports.run import ExportRequest, export_to_file
from geodata.settings import Settings

engine = db.make_engine(db.database_url(Settings.from_env()))
with engine.begin() as conn:
    export_to_file(conn, local_operator("bench"), ExportRequest("buildings"), Path(sys.argv[1]),
                   pseudonym_key=lambda: b"")
"""
"""The export as a library call in a lean process: what the exporter itself costs."""


def features_in(path: Path) -> int:
    """Features of a GeoJSON file with one feature a line (both writers do that)."""
    with path.open("rb") as f:
        return sum(1 for line in f if line.lstrip().startswith(b'{ "type": "Feature"')
                   or line.startswith(b'{"type":"Feature"'))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--fill-only", action="store_true", help="fill the database and stop")
    args = parser.parse_args()

    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    started = time.perf_counter()
    fill(cluster, args.buildings)
    print(f"filled {args.buildings} buildings in {time.perf_counter() - started:.1f} s")
    if args.fill_only:
        return

    app_url = cluster.url(role=APP_ROLE, database=DATABASE).render_as_string(hide_password=False)
    owner = cluster.url(role=OWNER_ROLE, database=DATABASE)
    wangge_env = {
        **os.environ,
        "WANGGE_DATABASE_URL": app_url,
        "WANGGE_ADMIN_DATABASE_URL": owner.render_as_string(hide_password=False),
        "WANGGE_USER": "",
    }
    gdal_env = {**os.environ, "PGPASSWORD": owner.password or ""}
    pg = (
        f"PG:host={owner.query['host']} port={owner.query.get('port', owner.port)} "
        f"dbname={DATABASE} user={owner.username}"
    )
    wangge = str(Path(sys.executable).parent / "wangge")
    results: dict[str, list[tuple[float, float]]] = {"wangge": [], "library": [], "ogr2ogr": []}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for run in range(args.runs):
            for name in results:
                path = out / f"{name}-{run}.geojson"
                if name == "wangge":
                    command = [wangge, "export", "buildings", "-o", str(path), "--no-progress"]
                    env = wangge_env
                elif name == "library":
                    command = [sys.executable, "-c", LIBRARY_CHILD, str(path)]
                    env = wangge_env
                else:
                    command = ["ogr2ogr", "-f", "GeoJSON", "-lco", "RFC7946=YES", str(path), pg,
                               "-sql", COLUMNS_SQL, "-nln", "buildings"]  # fmt: skip
                    env = gdal_env
                seconds, rss = measure(command, env)
                written = features_in(path)
                assert written == args.buildings, (name, written)
                size = path.stat().st_size / 1e6
                path.unlink()
                results[name].append((seconds, rss))
                print(f"run {run + 1} {name:8s} {seconds:6.2f} s "
                      f"{args.buildings / seconds:9.0f} features/s  peak {rss:6.0f} MB  "
                      f"{size:.0f} MB file")  # fmt: skip
    if not args.keep:
        cluster.drop_database(DATABASE)
    summary: dict[str, object] = {
        "buildings": args.buildings,
        "runs": args.runs,
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    for name, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        summary[name] = {
            "median_seconds": round(seconds, 2),
            "features_per_second": round(args.buildings / seconds),
            "peak_rss_mb": round(max(r for _, r in runs)),
        }
    ours, theirs = summary["wangge"], summary["ogr2ogr"]
    assert isinstance(ours, dict)
    assert isinstance(theirs, dict)
    summary["speedup"] = round(ours["features_per_second"] / theirs["features_per_second"], 2)
    library = summary["library"]
    assert isinstance(library, dict)
    summary["speedup_library"] = round(
        library["features_per_second"] / theirs["features_per_second"], 2
    )
    print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
