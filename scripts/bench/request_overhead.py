"""Round trips and latency of a request's fixed work (who the caller is, the grid scope, the
data version of a tile) on the sample town: sequential authenticated requests through
Flask's test client, in the app's own process.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/request_overhead.py \
        --requests 300 --runs 5

Per endpoint: SQL statements per request (a `before_cursor_execute` listener on both
engines), the transactions that sent one, connection checkouts and pings (the dialect's
`do_ping`, counted: a round trip no statement listener sees), the round trips these make,
and the median and p95 latency in milliseconds; each figure is the median over `--runs`.

The endpoints: a household's detail, a page of households, the due list and a visit
recorded (POST, a new Idempotency-Key each) as a grid worker (scoped, audited), and a
building tile answered 304 as a commander, once with the tile cache's data version kept for
its usual TTL and once read again on every request; the household's detail again with every
bearer token looked up (a checkout that keeps identified tokens, told not to); and the
building tiles' version query alone. A grid scope sent with its transaction's BEGIN (from
commit 76f66d9) is no statement the listener sees: its round trip is the BEGIN counted.
With `--count-town DATABASE` it only times the building tiles' version as it was before
migration 0032 (a count over buildings) on another town, read only.

The sample town is loaded on first use into `wangge_bench_request_overhead` (or
`--database`) and kept. To measure another checkout, run this file with that checkout as the
working directory and on PYTHONPATH, with a database of its own.
"""

from __future__ import annotations

import argparse
import math
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import measure
import orjson
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from geodata import db
from geodata.auth import accounts
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.maps.tiles import VERSION_SQL
from geodata.samples.town import load_sample
from geodata.settings import Settings
from geodata.vocab import Role
from webapp import create_app
from webapp.tiles import views as tile_views

DATABASE = "wangge_bench_request_overhead"
WORKER = "bench-overhead-worker"
COMMANDER = "bench-overhead-commander"
TILE_ZOOM = 16


class Counter:
    """Statements, transactions that ran one, checkouts and pings seen on the engines since
    the last `take()`. Round trips: each statement, a transaction's BEGIN and its COMMIT or
    ROLLBACK (psycopg sends them apart from the statements), each ping."""

    def __init__(self, engines: list[Engine]) -> None:
        self.statements = 0
        self.transactions = 0
        self.checkouts = 0
        self.pings = 0
        self._begun = False
        for engine in engines:
            event.listen(engine, "begin", self._begin)
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine.pool, "checkout", self._checkout)
            setattr(engine.dialect, "do_ping", self._counted_ping(engine.dialect.do_ping))  # noqa: B010 (mypy refuses assigning a method)

    def _begin(self, *_args: Any) -> None:
        self._begun = True

    def _statement(self, *_args: Any) -> None:
        self.statements += 1
        if self._begun:  # a transaction that sends nothing costs no round trip
            self.transactions += 1
            self._begun = False

    def _checkout(self, *_args: Any) -> None:
        self.checkouts += 1

    def _counted_ping(self, ping: Callable[[Any], bool]) -> Callable[[Any], bool]:
        """The dialect's ping, counted: SQLAlchemy's pre-ping and an idle check both call it."""

        def counted(dbapi_connection: Any) -> bool:
            self.pings += 1
            return ping(dbapi_connection)

        return counted

    def take(self) -> tuple[int, int, int, int]:
        found = (self.statements, self.transactions, self.checkouts, self.pings)
        self.statements = self.transactions = self.checkouts = self.pings = 0
        return found


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def prepare(owner: Engine) -> dict[str, Any]:
    """Two accounts with tokens (a grid worker of one settled grid, a commander of its
    village), one of that grid's households and a building tile in its village."""
    with owner.begin() as conn:
        load_sample(conn, seed=2020)
        conn.execute(
            text("DELETE FROM users WHERE username IN (:w, :c)"), {"w": WORKER, "c": COMMANDER}
        )
        row = conn.execute(
            text(
                "SELECT g.code AS grid, v.code AS village, min(h.id) AS household,"
                " ST_X(ST_Centroid(ST_Collect(b.geom))) AS lon,"
                " ST_Y(ST_Centroid(ST_Collect(b.geom))) AS lat"
                " FROM grids g JOIN villages v ON v.id = g.village_id"
                " JOIN households h ON h.grid_id = g.id"
                " JOIN buildings b ON b.id = h.building_id"
                " GROUP BY g.code, v.code ORDER BY count(*) DESC, g.code LIMIT 1"
            )
        ).one()
    with Session(owner) as session, session.begin():
        password = secrets.token_urlsafe(24)
        accounts.add_user(
            session, WORKER, Role.GRID_WORKER, grid_codes=[row.grid], password=password
        )
        accounts.add_user(
            session, COMMANDER, Role.COMMANDER, village_codes=[row.village], password=password
        )
        worker = accounts.issue_token(session, WORKER)
        commander = accounts.issue_token(session, COMMANDER)
    x, y = tile_of(row.lon, row.lat, TILE_ZOOM)
    return {
        "worker": {"Authorization": f"Bearer {worker}"},
        "commander": {"Authorization": f"Bearer {commander}"},
        "household": row.household,
        "tile": f"/tiles/buildings/{TILE_ZOOM}/{x}/{y}.pbf",
    }


def run_endpoint(
    client: FlaskClient, counter: Counter, url: str, headers: dict[str, str], requests: int
) -> dict[str, float]:
    first = client.get(url, headers=headers)
    if first.status_code != 200:
        sys.exit(f"GET {url}: {first.status_code} {first.get_data(as_text=True)[:200]}")
    etag = first.headers.get("ETag")
    expected = 304 if etag and url.startswith("/tiles/") else 200
    if expected == 304:
        headers = {**headers, "If-None-Match": etag or ""}

    def get() -> int:
        status: int = client.get(url, headers=headers).status_code
        return status

    return timed(f"GET {url}", get, expected, counter, requests)


def run_visits(
    client: FlaskClient, counter: Counter, household: int, headers: dict[str, str], requests: int
) -> dict[str, float]:
    """Visits recorded to one household, each under a new Idempotency-Key (201 each)."""
    url = f"/api/v1/households/{household}/visits"
    body = {"result": "seen_all", "fever_count": 0}

    def post() -> int:
        key = {"Idempotency-Key": f"bench-{secrets.token_hex(12)}"}
        status: int = client.post(url, json=body, headers={**headers, **key}).status_code
        return status

    return timed(f"POST {url}", post, 201, counter, requests)


def timed(
    name: str, send: Callable[[], int], expected: int, counter: Counter, requests: int
) -> dict[str, float]:
    """`send` five times to warm up, then `requests` times, each timed and its statements
    counted; any status but `expected` stops the benchmark."""
    for _ in range(5):
        if send() != expected:
            sys.exit(f"{name}: not {expected} while warming up")
    counter.take()
    seconds: list[float] = []
    counts: list[tuple[int, int, int, int]] = []
    for _ in range(requests):
        started = time.perf_counter()
        status = send()
        seconds.append(time.perf_counter() - started)
        counts.append(counter.take())
        if status != expected:
            sys.exit(f"{name}: {status}, expected {expected}")
    return summary(seconds, counts)


def summary(seconds: list[float], counts: list[tuple[int, int, int, int]]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "statements": statistics.mean(c[0] for c in counts),
        "transactions": statistics.mean(c[1] for c in counts),
        "checkouts": statistics.mean(c[2] for c in counts),
        "pings": statistics.mean(c[3] for c in counts),
        "round_trips": statistics.mean(c[0] + 2 * c[1] + c[3] for c in counts),
        "p50_ms": statistics.median(ms),
        "p95_ms": ms[int(0.95 * (len(ms) - 1))],
    }


def version_query_ms(engine: Engine, times: int) -> float:
    """The median milliseconds of the building tiles' version query alone, as the app runs it
    (the checkout's own `VERSION_SQL`)."""
    seconds: list[float] = []
    with engine.connect() as conn:
        for _ in range(times):
            started = time.perf_counter()
            conn.execute(text(VERSION_SQL["buildings"])).scalar_one()
            seconds.append(time.perf_counter() - started)
        conn.rollback()
    return statistics.median(seconds) * 1000


COUNTED_VERSION_SQL = "SELECT concat_ws(':', count(*), max(id), max(updated_at)) FROM buildings"
"""The building tiles' version before migration 0032: a count over the table."""


def counted_version_ms(cluster: LocalCluster, database: str, times: int = 20) -> dict[str, float]:
    """The buildings of another (larger) town and the median milliseconds of the counted
    version there, read only (the database is not migrated or changed)."""
    engine = db.make_engine(cluster.url(role=APP_ROLE, database=database))
    try:
        with engine.connect() as conn:
            buildings = conn.execute(text("SELECT count(*) FROM buildings")).scalar_one()
            seconds: list[float] = []
            for _ in range(times):
                started = time.perf_counter()
                conn.execute(text(COUNTED_VERSION_SQL)).scalar_one()
                seconds.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return {"buildings": buildings, "p50_ms": round(statistics.median(seconds) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--database", default=DATABASE, help="another name for another checkout's migrations"
    )
    parser.add_argument(
        "--count-town",
        metavar="DATABASE",
        help="only time the counted version (before migration 0032) on this town's buildings",
    )
    args = parser.parse_args()
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    if args.count_town:
        found = counted_version_ms(cluster, args.count_town)
        print(orjson.dumps({"machine": measure.machine(), **found}).decode())
        return
    cluster.ensure_database(args.database)
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=args.database))
    app_engine = db.make_engine(cluster.url(role=APP_ROLE, database=args.database))
    migrate.upgrade(owner, app_role=APP_ROLE)
    setup = prepare(owner)
    app = create_app(Settings.from_env(), engine=app_engine, admin_engine=owner)
    client = app.test_client()
    counter = Counter([app_engine, owner])
    worker, commander = setup["worker"], setup["commander"]
    endpoints: dict[str, Callable[[], dict[str, float]]] = {
        "household_detail": lambda: run_endpoint(
            client, counter, f"/api/v1/households/{setup['household']}", worker, args.requests
        ),
        "households_page": lambda: run_endpoint(
            client, counter, "/api/v1/households?limit=20", worker, args.requests
        ),
        "due_list": lambda: run_endpoint(
            client, counter, "/api/v1/visits/due", worker, args.requests
        ),
        "visit_recorded": lambda: run_visits(
            client, counter, setup["household"], worker, args.requests
        ),
        "building_tile_304": lambda: run_endpoint(
            client, counter, setup["tile"], commander, args.requests
        ),
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in endpoints}
    runs["building_tile_304_version_read"] = []
    runs["household_detail_token_read"] = []
    ttl = tile_views.cache.version_ttl_s
    # A checkout that keeps identified tokens: here they are looked up on every request.
    tokens = app.extensions.get("wangge.token_principals")
    version_ms: list[float] = []
    for _ in range(args.runs):
        for name, run in endpoints.items():
            runs[name].append(run())
        tile_views.cache.version_ttl_s = 0.0  # the version read on every request
        try:
            runs["building_tile_304_version_read"].append(endpoints["building_tile_304"]())
        finally:
            tile_views.cache.version_ttl_s = ttl
        token_ttl = getattr(tokens, "ttl_s", 0.0)
        if tokens is not None:
            tokens.ttl_s = 0.0
            tokens.clear()
        try:
            runs["household_detail_token_read"].append(endpoints["household_detail"]())
        finally:
            if tokens is not None:
                tokens.ttl_s = token_ttl
        version_ms.append(version_query_ms(app_engine, args.requests))
    result: dict[str, Any] = {
        "machine": measure.machine(),
        "requests": args.requests,
        "runs": args.runs,
        "endpoints": {
            name: {
                key: round(statistics.median(r[key] for r in found), 2)
                for key in (
                    "statements",
                    "transactions",
                    "checkouts",
                    "pings",
                    "round_trips",
                    "p50_ms",
                    "p95_ms",
                )
            }
            for name, found in runs.items()
        },
    }
    result["building_version_query_p50_ms"] = round(statistics.median(version_ms), 3)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    with owner.begin() as conn:
        conn.execute(
            text("DELETE FROM users WHERE username IN (:w, :c)"), {"w": WORKER, "c": COMMANDER}
        )
    owner.dispose()
    app_engine.dispose()


if __name__ == "__main__":
    main()
