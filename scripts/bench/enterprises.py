"""Time the enterprises of a county through their import, list, map layer and figures: 5,600
enterprises (as many as seed 004's), 1,060 of them with staff from risk areas, in 40 villages.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/enterprises.py --runs 3

Makes (once; `--rebuild` to make it again) the database `wangge_bench_enterprises` in the
machine's cluster, migrated to head, with 40 square villages and 10 risk areas. Then imports
an `enterprises` CSV of `--enterprises` rows (a polygon for every fifth) in one transaction
(each row checked: its position against the town's extent, its village, its risk areas),
imports the same file again (every row unchanged), reviews half of them, and times (median
of `--runs`, after one warm-up) `enterprises list --state approved`, the map layer as of now
and the coverage report's command post figures. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from geodata import db
from geodata.auth.access import Principal
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.imports.enterprise_layers import ENTERPRISES, import_layer
from geodata.maps.layers import LAYERS, feature_collection
from geodata.records import enterprises
from geodata.services.command_post import figures
from geodata.settings import Settings
from geodata.vocab import Role

NAME = "wangge_bench_enterprises"
SIDE = 0.02
"""Each village is a square of this many degrees (about 2 km), 8 to a row."""


def _town(conn: Connection) -> None:
    conn.execute(
        text(
            "INSERT INTO villages (source_id, code, name, kind, geom)"
            " SELECT 'bench:v/' || n, 'BV' || n, 'Village ' || n, 'village',"
            " ST_Multi(ST_MakeEnvelope(120 + (n % 8) * :s, 31 + (n / 8) * :s,"
            " 120 + (n % 8 + 1) * :s, 31 + (n / 8 + 1) * :s, 4326))"
            " FROM generate_series(0, 39) AS n"
        ),
        {"s": SIDE},
    )
    conn.execute(
        text(
            "INSERT INTO risk_areas (code, name, from_day, created_by)"
            " SELECT 'R' || n, 'Risk area ' || n, DATE '2026-01-20', 'bench'"
            " FROM generate_series(1, 10) AS n"
        )
    )


def _csv(path: Path, rows: int, with_risk: int) -> None:
    lines = [
        "source_id,name,kind,village,responsible,staff_total,staff_local,risk_staff,lon,lat,wkt"
    ]
    kinds = enterprises.KINDS
    for n in range(rows):
        village = n % 40
        x = 120 + (village % 8) * SIDE + SIDE * (0.05 + 0.9 * ((n * 37) % 101) / 101)
        y = 31 + (village // 8) * SIDE + SIDE * (0.05 + 0.9 * ((n * 53) % 103) / 103)
        risk = f"R{1 + n % 10}:{1 + n % 7};R{1 + (n + 3) % 10}:2" if n < with_risk else ""
        where = f"{x:.6f},{y:.6f},"
        if n % 5 == 0:
            d = SIDE / 200
            ring = ", ".join(f"{a:.6f} {b:.6f}" for a, b in (
                (x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)))  # fmt: skip
            where = f',,"POLYGON(({ring}))"'
        lines.append(f"ent-{n},Enterprise {n},{kinds[n % len(kinds)]},BV{village},Person {n},"
                     f"{20 + n % 300},{10 + n % 10},{risk},{where}")  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _timed(runs: int, work: Callable[[], Any]) -> dict[str, Any]:
    work()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=5600)
    parser.add_argument("--with-risk", type=int, default=1060)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=NAME))
    if args.rebuild:
        cluster.drop_database(NAME)
    cluster.ensure_database(NAME)
    migrate.upgrade(owner, app_role=APP_ROLE)
    result: dict[str, object] = {"database": NAME}
    with owner.begin() as conn:
        if conn.execute(text("SELECT count(*) FROM villages")).scalar_one() == 0:
            _town(conn)
    with tempfile.TemporaryDirectory() as work, owner.connect() as conn:
        path = Path(work) / "enterprises.csv"
        _csv(path, args.enterprises, args.with_risk)
        with conn.begin():
            conn.execute(text("TRUNCATE enterprise_reviews, passes, enterprise_risk_staff,"
                              " enterprises"))  # fmt: skip
        for label in ("import_new", "import_unchanged"):
            started = time.perf_counter()
            with conn.begin():
                report = import_layer(conn, ENTERPRISES, path, actor="bench")
            result[label] = {
                "rows": args.enterprises, "s": round(time.perf_counter() - started, 1),
                "inserted": report.inserted, "unchanged": report.unchanged,
                "errors": len(report.errors),
            }  # fmt: skip
        with conn.begin():
            conn.execute(
                text(
                    "INSERT INTO enterprise_reviews (enterprise_id, decision, risk_staff_cleared,"
                    " masks_in_stock, disinfectant_in_stock, canteen_rules, dormitory_rules,"
                    " health_officer, reviewer, reviewed_on) SELECT id,"
                    " CASE WHEN id % 3 = 0 THEN 'refused' ELSE 'approved' END,"
                    " true, true, true, true, true, true, 'bench', DATE '2026-02-05'"
                    " FROM enterprises WHERE id % 2 = 0"
                )
            )
        admin = Principal(name="bench", role=Role.ADMIN)
        now = datetime.now(UTC)
        with conn.begin():
            result["list_approved"] = _timed(
                args.runs, lambda: enterprises.listed(conn, None, state="approved")
            )
            result["approved"] = len(enterprises.listed(conn, None, state="approved"))
            result["map_layer"] = _timed(
                args.runs, lambda: feature_collection(conn, LAYERS["enterprises"], as_of=now)
            )
            result["command_post_figures"] = _timed(args.runs, lambda: figures(conn, admin))
            result["figures"] = figures(conn, admin, at=datetime.combine(
                date(2026, 2, 20), datetime.min.time(), UTC))  # fmt: skip
    owner.dispose()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
