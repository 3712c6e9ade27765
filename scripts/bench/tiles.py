"""Time z14 building tiles and the map page on a synthetic town.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/tiles.py \
        --households 1000000 --tiles 60 --runs 3

Loads the town once into a scratch database of the local cluster (kept; `--drop` removes it),
then, through the app (Flask test client, app role, row-level security applied), renders
two sets of z14 tiles with the tile cache cleared before every request: the tiles holding
the most buildings, and typical tiles (the ones whose building count is nearest
`--typical`, each asked for several times). Each run gives a p50 and a p95 per set; the
figures printed are the medians over the runs. Tiles are asked for as the map asks for
them (a browser session signed in through the login form) and, apart, with a bearer token
(GIS clients; each request also records the token's use). Also measures the map page's HTML.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import time
from typing import TYPE_CHECKING

from measure import map_town
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.auth import accounts
from geodata.auth.access import Principal
from geodata.db.cluster import APP_ROLE
from geodata.maps import tiles as map_tiles
from geodata.settings import Settings
from geodata.vocab import Role
from webapp import create_app
from webapp.tiles import views as tiles

if TYPE_CHECKING:
    from flask.testing import FlaskClient

BENCH_USER = "bench-tiles-commander"


def tiles_by_count(conn: object, z: int) -> list[tuple[int, int, int, int]]:
    """Every tile at zoom z holding a building centroid, with its count, busiest first."""
    rows = conn.execute(  # type: ignore[attr-defined]
        text(
            """
            SELECT x, y, count(*) FROM (
                SELECT floor((ST_X(c) + 180) / 360 * 2 ^ :z)::int AS x,
                       floor((1 - ln(tan(radians(ST_Y(c))) + 1 / cos(radians(ST_Y(c)))) / pi())
                             / 2 * 2 ^ :z)::int AS y
                FROM (SELECT ST_Centroid(geom) AS c FROM buildings) AS b
            ) AS t GROUP BY x, y ORDER BY count(*) DESC
            """
        ),
        {"z": z},
    ).all()
    return [(z, int(x), int(y), int(c)) for x, y, c in rows]


def typical_tiles(
    every: list[tuple[int, int, int, int]], near: int, n: int
) -> list[tuple[int, int, int, int]]:
    """The n tiles whose building count is nearest `near`."""
    return sorted(every, key=lambda t: abs(t[3] - near))[:n]


def signed_in(client: FlaskClient, username: str, password: str) -> FlaskClient:
    """Sign `client` in through the login form, as a browser does."""
    form = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert found is not None
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": found.group(1)},
    )
    assert answer.status_code == 302, answer.status_code
    return client


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tiles", type=int, default=60)
    parser.add_argument("--typical", type=int, default=1500, help="buildings in a typical tile")
    parser.add_argument("--typical-tiles", type=int, default=5)
    parser.add_argument("--repeat-typical", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()

    cluster, name, owner, app_engine = map_town(args.households, args.seed)
    try:
        with owner.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": BENCH_USER})
        password = secrets.token_urlsafe(24)
        with Session(owner) as s, s.begin():
            accounts.add_user(s, BENCH_USER, Role.COMMANDER, password=password)
            token = accounts.issue_token(s, BENCH_USER)
        with owner.connect() as conn:
            every = tiles_by_count(conn, 14)
        chosen = every[: args.tiles]
        typical = typical_tiles(every, args.typical, args.typical_tiles)
        settings = Settings(
            database_url=cluster.url(role=APP_ROLE, database=name).render_as_string(
                hide_password=False
            ),
            home=cluster.home,
            env="testing",
        )
        app = create_app(settings, engine=app_engine)
        browser = signed_in(app.test_client(), BENCH_USER, password)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        sizes: list[int] = []
        runs: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        sets = {"dense": chosen, "typical": typical * args.repeat_typical}
        for _ in range(args.runs):
            for via, asking in (("session", browser), ("token", client)):
                for label, batch in sets.items():
                    ms: list[float] = []
                    for z, x, y, _count in batch:
                        tiles.cache.clear_tiles()  # the data version stays memoised
                        started = time.perf_counter()
                        response = asking.get(f"/tiles/buildings/{z}/{x}/{y}.pbf")
                        ms.append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 200
                        if label == "dense":
                            sizes.append(len(response.get_data()))
                    runs.setdefault((via, label), []).append(
                        (statistics.median(ms), percentile(ms, 0.95), max(ms))
                    )
        # The same tiles answered again with the data unchanged: a 304 from the ETag.
        revalidate: list[float] = []
        for z, x, y, _count in chosen:
            first = browser.get(f"/tiles/buildings/{z}/{x}/{y}.pbf")
            started = time.perf_counter()
            again = browser.get(
                f"/tiles/buildings/{z}/{x}/{y}.pbf",
                headers={"If-None-Match": first.headers["ETag"]},
            )
            revalidate.append(time.perf_counter() - started)
            assert again.status_code == 304
        # The SQL alone, on the app role as a town-wide commander sees it.
        sql_ms: dict[str, list[float]] = {"dense": [], "typical": []}
        with app_engine.connect() as conn:
            conn.execute(text("SET ROLE wangge_town"))
            conn.execute(text("SET max_parallel_workers_per_gather = 0"))
            statement = text(map_tiles.buildings_sql(accounts_principal()))
            for _ in range(args.runs):
                for label, batch in sets.items():
                    for z, x, y, _count in batch:
                        started = time.perf_counter()
                        conn.execute(statement, {"z": z, "x": x, "y": y}).scalar_one()
                        sql_ms[label].append((time.perf_counter() - started) * 1000)
            conn.rollback()
        version_started = time.perf_counter()
        with app_engine.connect() as conn:
            conn.execute(text(map_tiles.VERSION_SQL["buildings"])).scalar_one()
        version_ms = (time.perf_counter() - version_started) * 1000
        page_started = time.perf_counter()
        page = browser.get("/")
        page_s = time.perf_counter() - page_started
        assert page.status_code == 200
    finally:
        with owner.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": BENCH_USER})
        owner.dispose()
        app_engine.dispose()
        if args.drop:
            cluster.drop_database(name)

    def summary(label: str, batch: list[tuple[int, int, int, int]]) -> str:
        counts = [c for *_, c in batch]
        lines = [
            f"{label} z14 building tiles: {len(set(batch))} tiles of "
            f"{min(counts)}–{max(counts)} buildings, {len(batch)} requests per run, "
            f"cache cleared before each; medians of {args.runs} runs:"
        ]
        for via in ("session", "token"):
            found = runs[(via, label)]
            p50, p95, top = (statistics.median(r[i] for r in found) for i in range(3))
            lines.append(
                f"  through the app ({via}): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
                f"max {top:.1f} ms (p95 per run: " + ", ".join(f"{r[1]:.1f}" for r in found) + ")"
            )
        lines.append(
            f"  SQL alone: p50 {statistics.median(sql_ms[label]):.1f} ms, "
            f"p95 {percentile(sql_ms[label], 0.95):.1f} ms"
        )
        return "\n".join(lines)

    print(summary("dense", chosen))
    print(summary("typical", sets["typical"]))
    print(
        f"tile size median {statistics.median(sizes) / 1024:.0f} KiB (dense); "
        f"304 revalidation p95 {percentile([s * 1000 for s in revalidate], 0.95):.1f} ms; "
        f"map page {len(page.get_data()) / 1024:.1f} KiB in {page_s * 1000:.0f} ms; "
        f"data version read {version_ms:.0f} ms"
    )


def accounts_principal() -> Principal:
    return Principal(name=BENCH_USER, role=Role.COMMANDER)


if __name__ == "__main__":
    main()
