"""Time `wangge import buildings` beside `ogr2ogr -f PostgreSQL` on the same generated GeoJSON.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/import_buildings.py \
        --buildings 100000 --runs 3

Writes N building squares (source_id, name, floors) as one GeoJSON file, creates a scratch
database, then for each run: empties `buildings`, runs `wangge import buildings FILE`
(read in chunks, full validation, COPY, audit, commit) as a child process; and
runs `ogr2ogr -f PostgreSQL` on the same file into a table of its own (-overwrite), through
the cluster's unix socket as the owner role. Both are timed end to end (process start to
exit) with their peak resident memory from wait4(). Then one re-import of the same file
(every row unchanged). Prints every run and the medians as JSON; drops the database.
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
from typing import Any

import numpy as np
import orjson
from sqlalchemy import text

from geodata import db
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.settings import Settings

DATABASE = "wangge_bench_import"
WANGGE = Path(sys.executable).with_name("wangge")
OGR2OGR = "/usr/bin/ogr2ogr"


def write_buildings(path: Path, n: int, *, seed: int = 7) -> None:
    """N small squares (8-20 m) scattered over about 10 x 10 km near 9.52 E, 47.14 N."""
    rng = np.random.default_rng(seed)
    x = 9.45 + rng.random(n) * 0.13
    y = 47.09 + rng.random(n) * 0.09
    d = 0.0001 + rng.random(n) * 0.00015
    floors = rng.integers(1, 12, n)
    with path.open("wb") as out:
        out.write(b'{"type":"FeatureCollection","features":[\n')
        for i in range(n):
            x0, y0 = float(x[i]), float(y[i])
            x1, y1 = x0 + float(d[i]), y0 + float(d[i])
            ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
            feature = {
                "type": "Feature",
                "properties": {"source_id": f"b{i}", "name": f"B {i}", "floors": int(floors[i])},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
            out.write(orjson.dumps(feature))
            out.write(b",\n" if i < n - 1 else b"\n")
        out.write(b"]}\n")


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a child; its wall time and peak RSS (wait4 gives that child's own rusage)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{cmd[0]} failed ({code}): {err.decode()[-2000:]} {out.decode()[-500:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024), "out": out}


def pg_source(cluster: LocalCluster) -> tuple[str, dict[str, str]]:
    url = cluster.url(role=OWNER_ROLE, database=DATABASE)
    host = url.query.get("host") or url.host or ""
    source = f"PG:dbname={DATABASE} user={url.username} host={host}"
    port = url.query.get("port") or url.port
    if port:
        source += f" port={port}"
    return source, {"PGPASSWORD": url.password or ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    cluster.drop_database(DATABASE)
    cluster.ensure_database(DATABASE)
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=DATABASE))
    migrate.upgrade(owner, app_role=APP_ROLE)
    env = dict(os.environ)
    env["WANGGE_DATABASE_URL"] = cluster.url(role=APP_ROLE, database=DATABASE).render_as_string(
        hide_password=False
    )
    env["WANGGE_ADMIN_DATABASE_URL"] = cluster.url(
        role=OWNER_ROLE, database=DATABASE
    ).render_as_string(hide_password=False)
    source, pg_env = pg_source(cluster)
    ogr_env = {**os.environ, **pg_env}
    results: dict[str, list[dict[str, Any]]] = {"wangge": [], "ogr2ogr": []}
    try:
        with tempfile.TemporaryDirectory(prefix="wangge-bench-") as tmp:
            path = Path(tmp) / "buildings.geojson"
            write_buildings(path, args.buildings)
            size_mib = path.stat().st_size / 2**20
            wangge_cmd = [str(WANGGE), "import", "buildings", str(path), "--format", "json",
                          "--no-progress"]  # fmt: skip
            ogr_cmd = [OGR2OGR, "-f", "PostgreSQL", source, str(path), "-nln", "ogr_buildings",
                       "-overwrite", "-lco", "GEOMETRY_NAME=geom"]  # fmt: skip
            for run in range(args.runs):
                with owner.begin() as conn:
                    conn.execute(text("TRUNCATE buildings CASCADE"))
                    conn.execute(text("DELETE FROM audit_events"))
                w = timed(wangge_cmd, env)
                report = orjson.loads(w.pop("out"))
                assert report["inserted"] == args.buildings, report
                o = timed(ogr_cmd, ogr_env)
                o.pop("out")
                results["wangge"].append(w)
                results["ogr2ogr"].append(o)
                print(f"run {run + 1}: wangge {w}  ogr2ogr {o}", file=sys.stderr)
            again = timed(wangge_cmd, env)
            unchanged = orjson.loads(again.pop("out"))["unchanged"]
            with owner.connect() as conn:
                counts = {
                    "buildings": conn.execute(text("SELECT count(*) FROM buildings")).scalar(),
                    "ogr_buildings": conn.execute(
                        text("SELECT count(*) FROM ogr_buildings")
                    ).scalar(),
                }
    finally:
        owner.dispose()
        cluster.drop_database(DATABASE)

    def median(tool: str, key: str) -> float:
        return float(statistics.median(r[key] for r in results[tool]))

    summary = {
        "buildings": args.buildings,
        "file_mib": round(size_mib, 1),
        "runs": results,
        "median_seconds": {t: median(t, "seconds") for t in results},
        "median_peak_rss_mib": {t: median(t, "peak_rss_mib") for t in results},
        "ratio_wangge_to_ogr2ogr": round(
            median("wangge", "seconds") / median("ogr2ogr", "seconds"), 2
        ),
        "reimport_unchanged": {"rows": unchanged, **again},
        "counts": counts,
    }
    sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
