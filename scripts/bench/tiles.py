"""Time z14 building tiles and the map page on a synthetic town.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/tiles.py \
        --households 1000000 --tiles 60 --runs 3

Loads the town once into a scratch database of the local cluster (kept; `--drop` removes it),
then, through the app (Flask test client, app role, row-level security applied), renders
the z14 tiles holding the most buildings with the tile cache cleared before every request,
and measures the map page's HTML. Prints p50/p95 and a Markdown section.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata import accounts, db, migrate
from geodata.access import Principal
from geodata.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.models import Role
from geodata.samples.synthetic import SyntheticSpec, already_loaded, load_synthetic
from geodata.settings import Settings
from webapp import create_app, tiles

BENCH_USER = "bench-tiles-commander"


def busiest_tiles(conn: object, z: int, n: int) -> list[tuple[int, int, int, int]]:
    rows = conn.execute(  # type: ignore[attr-defined]
        text(
            """
            SELECT x, y, count(*) FROM (
                SELECT floor((ST_X(c) + 180) / 360 * 2 ^ :z)::int AS x,
                       floor((1 - ln(tan(radians(ST_Y(c))) + 1 / cos(radians(ST_Y(c)))) / pi())
                             / 2 * 2 ^ :z)::int AS y
                FROM (SELECT ST_Centroid(geom) AS c FROM buildings) AS b
            ) AS t GROUP BY x, y ORDER BY count(*) DESC LIMIT :n
            """
        ),
        {"z": z, "n": n},
    ).all()
    return [(z, int(x), int(y), int(c)) for x, y, c in rows]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tiles", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()

    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    spec = SyntheticSpec.from_counts(households=args.households, seed=args.seed)
    name = f"wangge_bench_tiles_{spec.households}_{spec.seed}"
    cluster.ensure_database(name)
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=name))
    app_engine = db.make_engine(cluster.url(role=APP_ROLE, database=name))
    try:
        migrate.upgrade(owner, app_role=APP_ROLE)
        with owner.begin() as conn:
            if not already_loaded(conn, spec):
                print(f"loading {spec.households} households into {name}", file=sys.stderr)
                load_synthetic(conn, spec, progress=False)
            conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": BENCH_USER})
        with Session(owner) as s, s.begin():
            accounts.add_user(s, BENCH_USER, Role.COMMANDER, password=secrets.token_urlsafe(24))
            token = accounts.issue_token(s, BENCH_USER)
        with owner.connect() as conn:
            chosen = busiest_tiles(conn, 14, args.tiles)
        settings = Settings(
            database_url=cluster.url(role=APP_ROLE, database=name).render_as_string(
                hide_password=False
            ),
            home=cluster.home,
            env="testing",
        )
        app = create_app(settings, engine=app_engine)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        seconds: list[float] = []
        sizes: list[int] = []
        for _ in range(args.runs):
            for z, x, y, _count in chosen:
                tiles.cache.clear_tiles()  # the data version stays memoised (VERSION_TTL_S)
                started = time.perf_counter()
                response = client.get(f"/tiles/buildings/{z}/{x}/{y}.pbf")
                seconds.append(time.perf_counter() - started)
                assert response.status_code == 200
                sizes.append(len(response.get_data()))
        # The same tiles answered again with the data unchanged: a 304 from the ETag.
        revalidate: list[float] = []
        for z, x, y, _count in chosen:
            first = client.get(f"/tiles/buildings/{z}/{x}/{y}.pbf")
            started = time.perf_counter()
            again = client.get(
                f"/tiles/buildings/{z}/{x}/{y}.pbf",
                headers={"If-None-Match": first.headers["ETag"]},
            )
            revalidate.append(time.perf_counter() - started)
            assert again.status_code == 304
        # The SQL alone, on the app role as a town-wide commander sees it.
        sql_ms: list[float] = []
        with app_engine.connect() as conn:
            conn.execute(text("SET ROLE wangge_town"))
            statement = text(tiles.buildings_sql(accounts_principal()))
            for z, x, y, _count in chosen:
                started = time.perf_counter()
                conn.execute(statement, {"z": z, "x": x, "y": y}).scalar_one()
                sql_ms.append((time.perf_counter() - started) * 1000)
            conn.rollback()
        version_started = time.perf_counter()
        with app_engine.connect() as conn:
            conn.execute(text(tiles.VERSION_SQL["buildings"])).scalar_one()
        version_ms = (time.perf_counter() - version_started) * 1000
        page_started = time.perf_counter()
        page = client.get("/")
        page_s = time.perf_counter() - page_started
        assert page.status_code == 200
    finally:
        with owner.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": BENCH_USER})
        owner.dispose()
        app_engine.dispose()
        if args.drop:
            cluster.drop_database(name)

    ms = [s * 1000 for s in seconds]
    counts = [c for *_, c in chosen]
    print(
        f"z14 building tiles ({len(chosen)} busiest, {min(counts)}–{max(counts)} buildings, "
        f"{args.runs} runs, cache cleared each time): p50 {statistics.median(ms):.1f} ms, "
        f"p95 {percentile(ms, 0.95):.1f} ms, max {max(ms):.1f} ms; "
        f"tile size median {statistics.median(sizes) / 1024:.0f} KiB; "
        f"304 revalidation p95 {percentile([s * 1000 for s in revalidate], 0.95):.1f} ms; "
        f"map page {len(page.get_data()) / 1024:.1f} KiB in {page_s * 1000:.0f} ms; "
        f"tile SQL alone p50 {statistics.median(sql_ms):.1f} ms, "
        f"p95 {percentile(sql_ms, 0.95):.1f} ms; data version read {version_ms:.0f} ms"
    )


def accounts_principal() -> Principal:
    return Principal(name=BENCH_USER, role=Role.COMMANDER)


if __name__ == "__main__":
    main()
