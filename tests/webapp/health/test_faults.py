"""Faults the app rides out without a restart: every pooled connection held (503 with
Retry-After within 2 s, then service again), and PostgreSQL crashed and started again."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask

from geodata import db
from geodata.db.cluster import APP_ROLE, LocalCluster
from tests import conftest
from tests.conftest import TestDatabase
from tests.private_cluster import private_cluster
from webapp.factory import create_app


def test_a_full_pool_is_a_503_with_retry_after_within_2_s(throwaway_db: TestDatabase) -> None:
    account = conftest.make_account(throwaway_db, "pool-admin", "admin")
    assert throwaway_db.settings.database_url
    engine = db.make_engine(throwaway_db.settings.database_url, pool_size=2, max_overflow=0)
    try:
        app = create_app(throwaway_db.settings, engine=engine, admin_engine=throwaway_db.owner)
        client = app.test_client()
        bearer = {"Authorization": f"Bearer {account.token}"}
        assert client.get("/api/v1/households", headers=bearer).status_code == 200
        held = [engine.connect() for _ in range(2)]
        started = time.monotonic()
        full = client.get("/api/v1/households", headers=bearer)
        waited_s = time.monotonic() - started
        assert full.status_code == 503
        assert full.headers["Retry-After"] == "2"
        assert full.get_json()["error"] == "Service Unavailable"
        assert waited_s < 2.0
        assert client.get("/readyz").status_code == 503
        for connection in held:
            connection.close()
        assert client.get("/api/v1/households", headers=bearer).status_code == 200
        assert client.get("/readyz").status_code == 200
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def crashable() -> Iterator[tuple[LocalCluster, TestDatabase]]:
    with private_cluster() as found:
        yield found


def _statuses_after_restart(
    cluster: LocalCluster, app: Flask, bearer: dict[str, str], *, mode: str
) -> list[int]:
    client = app.test_client()
    assert client.get("/api/v1/households", headers=bearer).status_code == 200  # a warm pool
    cluster.down(mode=mode)
    assert client.get("/readyz").status_code == 503
    cluster.up()
    statuses = [client.get("/api/v1/households", headers=bearer).status_code]
    if statuses[0] == 503:
        statuses.append(client.get("/api/v1/households", headers=bearer).status_code)
    return statuses


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_the_first_request_after_a_restart_is_served(
    crashable: tuple[LocalCluster, TestDatabase], mode: str
) -> None:
    cluster, database = crashable
    # The harness's own engine (not the one under test) may hold a connection from before
    # the previous test's restart, used less than PING_IDLE_S before it.
    database.owner.dispose()
    account = conftest.make_account(database, f"restart-{mode}", "admin")
    engine = db.make_engine(cluster.url(role=APP_ROLE))
    try:
        app = create_app(database.settings, engine=engine, admin_engine=database.owner)
        bearer = {"Authorization": f"Bearer {account.token}"}
        statuses = _statuses_after_restart(cluster, app, bearer, mode=mode)
        assert statuses in ([200], [503, 200])
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        engine.dispose()
