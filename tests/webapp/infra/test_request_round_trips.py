"""A request's fixed work in statements: a bearer token is identified with its user and grid
scope in one statement, then kept for TOKEN_TTL_S seconds, so a revoked token, a disabled
user or an expired token is refused within that window and no later; a building tile
revalidated by a known caller needs no statement at all."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event, text

from tests import conftest
from webapp.infra import policy, token_principals
from webapp.tiles import views as tiles

PAGE = "/api/v1/households?limit=1"
HOUSEHOLD_DETAIL_STATEMENTS = 5
"""A household's detail once the caller is known: the scope, the household, its residents,
the audit row and the address."""


@pytest.fixture(scope="module")
def settled(throwaway_sample_db: conftest.TestDatabase) -> tuple[str, int]:
    """A grid with households, and one of them."""
    grid, _ = conftest.two_settled_grids(throwaway_sample_db)
    with throwaway_sample_db.owner.connect() as conn:
        household = conn.execute(
            text(
                "SELECT min(h.id) FROM households h JOIN grids g ON g.id = h.grid_id"
                " WHERE g.code = :g"
            ),
            {"g": grid},
        ).scalar_one()
    return grid, int(household)


@pytest.fixture(scope="module")
def tile_path(throwaway_sample_db: conftest.TestDatabase, settled: tuple[str, int]) -> str:
    """A building tile (zoom 16) over the settled grid's first household."""
    with throwaway_sample_db.owner.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(b.geom) AS c FROM households h"
                " JOIN buildings b ON b.id = h.building_id WHERE h.id = :h) AS x"
            ),
            {"h": settled[1]},
        ).one()
    z = 16
    x = int((lon + 180.0) / 360.0 * 2**z)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * 2**z)
    return f"/tiles/buildings/{z}/{x}/{y}.pbf"


@pytest.fixture(scope="module")
def worker(
    throwaway_sample_db: conftest.TestDatabase, settled: tuple[str, int]
) -> conftest.Account:
    return conftest.make_account(
        throwaway_sample_db, "trips-worker", "grid_worker", grid_codes=(settled[0],)
    )


@pytest.fixture
def statements(throwaway_sample_db: conftest.TestDatabase) -> Iterator[list[str]]:
    """Every statement sent through either engine while the test runs."""
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    engines = (throwaway_sample_db.app, throwaway_sample_db.owner)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    yield seen
    for engine in engines:
        event.remove(engine, "before_cursor_execute", record)


def _bearer(account: conftest.Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


def _forget_tokens(app: Flask) -> None:
    with app.app_context():
        policy.token_principals().clear()


def test_a_token_is_identified_in_one_statement_then_kept(
    app: Flask, worker: conftest.Account, settled: tuple[str, int], statements: list[str]
) -> None:
    client = app.test_client()
    url = f"/api/v1/households/{settled[1]}"
    assert client.get(url, headers=_bearer(worker)).status_code == 200  # its first use noted
    _forget_tokens(app)
    statements.clear()
    assert client.get(url, headers=_bearer(worker)).status_code == 200
    looked_up = len(statements)
    assert sum("api_tokens" in s for s in statements) == 1
    assert looked_up <= HOUSEHOLD_DETAIL_STATEMENTS + 1
    statements.clear()
    assert client.get(url, headers=_bearer(worker)).status_code == 200
    assert not any("api_tokens" in s or "users" in s for s in statements)
    assert len(statements) <= HOUSEHOLD_DETAIL_STATEMENTS
    assert len(statements) == looked_up - 1


def test_a_refused_token_is_looked_up_every_time(app: Flask, statements: list[str]) -> None:
    client = app.test_client()
    for _ in range(2):
        statements.clear()
        answer = client.get("/api/v1/households", headers={"Authorization": "Bearer wgt_nope"})
        assert answer.status_code == 401
        assert sum("api_tokens" in s for s in statements) == 1


def test_a_revalidated_building_tile_of_a_known_caller_needs_no_statement(
    app: Flask, worker: conftest.Account, tile_path: str, statements: list[str]
) -> None:
    tiles.cache.clear()
    client = app.test_client()
    first = client.get(tile_path, headers=_bearer(worker))
    assert first.status_code == 200
    statements.clear()
    revalidate = {**_bearer(worker), "If-None-Match": first.headers["ETag"]}
    again = client.get(tile_path, headers=revalidate)
    assert again.status_code == 304
    assert statements == []


def test_a_building_inserted_anywhere_gives_the_building_tiles_a_new_version(
    app: Flask, worker: conftest.Account, tile_path: str, throwaway_sample_db: conftest.TestDatabase
) -> None:
    tiles.cache.clear()
    client = app.test_client()
    first = client.get(tile_path, headers=_bearer(worker))
    with throwaway_sample_db.owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO buildings (source_id, geom) VALUES ('trips:far', "
                "ST_MakeEnvelope(10.0, 10.0, 10.001, 10.001, 4326))"
            )
        )
    tiles.cache.clear()  # the version is read again at most every VERSION_TTL_S
    again = client.get(
        tile_path, headers={**_bearer(worker), "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 200
    assert again.headers["ETag"] != first.headers["ETag"]


class Clock:
    """time.monotonic of the token cache, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE api_tokens SET revoked_at = now() WHERE user_id = :u",
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE user_id = :u",
        "UPDATE users SET active = false WHERE id = :u",
    ],
    ids=["revoked", "expired", "user disabled"],
)
def test_a_token_stops_working_when_its_window_ends(
    app: Flask,
    throwaway_sample_db: conftest.TestDatabase,
    settled: tuple[str, int],
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    clock = Clock()
    with app.app_context():
        monkeypatch.setattr(policy.token_principals(), "clock", clock)
    name = f"trips-{len(change)}"
    account = conftest.make_account(
        throwaway_sample_db, name, "grid_worker", grid_codes=(settled[0],)
    )
    client = app.test_client()
    assert client.get(PAGE, headers=_bearer(account)).status_code == 200
    with throwaway_sample_db.owner.begin() as conn:
        user = conn.execute(text("SELECT id FROM users WHERE username = :n"), {"n": name})
        conn.execute(text(change), {"u": user.scalar_one()})
    clock.now += token_principals.TOKEN_TTL_S - 0.01
    assert client.get(PAGE, headers=_bearer(account)).status_code == 200
    clock.now += 0.01
    assert client.get(PAGE, headers=_bearer(account)).status_code == 401


def test_a_revoked_token_is_refused_within_two_seconds(
    app: Flask, throwaway_sample_db: conftest.TestDatabase, settled: tuple[str, int]
) -> None:
    assert token_principals.TOKEN_TTL_S <= 2.0
    account = conftest.make_account(
        throwaway_sample_db, "trips-revoked", "grid_worker", grid_codes=(settled[0],)
    )
    client = app.test_client()
    assert client.get(PAGE, headers=_bearer(account)).status_code == 200
    with throwaway_sample_db.owner.begin() as conn:
        conn.execute(
            text(
                "UPDATE api_tokens SET revoked_at = now() WHERE user_id ="
                " (SELECT id FROM users WHERE username = 'trips-revoked')"
            )
        )
    time.sleep(token_principals.TOKEN_TTL_S)
    assert client.get(PAGE, headers=_bearer(account)).status_code == 401
