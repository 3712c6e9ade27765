"""Prepare the load test (scripts/bench/locustfile.py): a copy of the 190,000-household town
migrated to head, its accounts (grid workers, commanders, analysts) and what they ask for.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/load_prep.py --out /tmp/load.json

Copies `wangge_bench_campaign_190000_1` (900 grids, 95 villages; made by
scripts/bench/campaign_progress.py) to `wangge_load_190000`, adds 300 grid workers (one grid
each, spread over the grids), 60 commanders (their villages) and 40 analysts with bearer
tokens, and writes the tokens, each worker's households, the villages and the z16 tiles of
the town to a JSON file, with the environment that `wangge serve` needs for that database.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata import db
from geodata.auth import accounts
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.settings import Settings
from geodata.vocab import Role

TILE_ZOOM = 16


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="wangge_bench_campaign_190000_1")
    parser.add_argument("--database", default="wangge_load_190000")
    parser.add_argument("--workers", type=int, default=300)
    parser.add_argument("--commanders", type=int, default=60)
    parser.add_argument("--analysts", type=int, default=40)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    cluster.drop_database(args.database)
    cluster.ensure_database(args.database, template=args.source)
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=args.database))
    migrate.upgrade(owner, app_role=APP_ROLE)
    with owner.connect() as conn:
        settled = text(
            "SELECT g.code FROM grids g WHERE EXISTS "
            "(SELECT 1 FROM households h WHERE h.grid_id = g.id) ORDER BY g.code"
        )
        grids = [str(g) for g in conn.execute(settled).scalars()]
        listed = text("SELECT code FROM villages ORDER BY code")
        villages = [str(v) for v in conn.execute(listed).scalars()]
        box = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom) e FROM villages) s")).one()  # fmt: skip
        households = {
            str(code): [int(i) for i in ids]
            for code, ids in conn.execute(
                text(
                    "SELECT g.code, (array_agg(h.id ORDER BY h.id))[1:40] FROM households h "
                    "JOIN grids g ON g.id = h.grid_id GROUP BY g.code"
                )
            ).all()
        }
    people: dict[str, list[dict[str, object]]] = {"workers": [], "commanders": [], "analysts": []}
    with Session(owner) as s, s.begin():
        for i in range(args.workers):
            grid = grids[(i * len(grids)) // args.workers]
            name = f"load-w{i}"
            accounts.add_user(s, name, Role.GRID_WORKER, grid_codes=(grid,))
            people["workers"].append({"token": accounts.issue_token(s, name), "grid": grid,
                                      "households": households[grid]})  # fmt: skip
        for i in range(args.commanders):
            village = villages[i % len(villages)]
            name = f"load-c{i}"
            accounts.add_user(s, name, Role.COMMANDER, village_codes=(village,))
            people["commanders"].append({"token": accounts.issue_token(s, name)})
        for i in range(args.analysts):
            name = f"load-a{i}"
            accounts.add_user(s, name, Role.ANALYST)
            people["analysts"].append({"token": accounts.issue_token(s, name)})
    owner.dispose()
    x0, y1 = _tile(float(box[0]), float(box[1]), TILE_ZOOM)
    x1, y0 = _tile(float(box[2]), float(box[3]), TILE_ZOOM)
    tiles = [[TILE_ZOOM, x, y] for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    settings = {
        "WANGGE_DATABASE_URL": cluster.url(role=APP_ROLE, database=args.database)
        .render_as_string(hide_password=False),
        "WANGGE_ADMIN_DATABASE_URL": cluster.url(role=OWNER_ROLE, database=args.database)
        .render_as_string(hide_password=False),
    }  # fmt: skip
    plan = {**people, "villages": villages, "tiles": tiles, "env": settings}
    args.out.write_text(json.dumps(plan))
    args.out.chmod(0o600)
    print(f"{args.out}: {len(people['workers'])} workers, {len(people['commanders'])} commanders,"
          f" {len(people['analysts'])} analysts, {len(tiles)} z{TILE_ZOOM} tiles")  # fmt: skip


if __name__ == "__main__":
    main()
