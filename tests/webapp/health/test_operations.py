"""`/readyz` and `/metrics` in the app itself: readiness follows the database, metrics are for
the machine or an admin, and are labelled by URL rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from geodata import db
from tests import conftest
from tests.conftest import TestDatabase
from webapp.factory import create_app

ELSEWHERE = {"REMOTE_ADDR": "192.0.2.10"}


@pytest.fixture(scope="module")
def accounts(throwaway_db: TestDatabase) -> dict[str, conftest.Account]:
    return {
        role: conftest.make_account(throwaway_db, f"ops-{role}", role)
        for role in ("admin", "commander")
    }


@pytest.fixture
def app(throwaway_db: TestDatabase) -> Flask:
    return create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )


@pytest.fixture
def unreachable(throwaway_db: TestDatabase) -> Iterator[Flask]:
    engine = db.make_engine("postgresql+psycopg://nobody@/nowhere?host=/nonexistent-socket-dir")
    try:
        yield create_app(throwaway_db.settings, engine=engine, admin_engine=engine)
    finally:
        engine.dispose()


def test_readyz_is_200_with_the_database(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"ready": True, "database": True}


def test_readyz_is_503_with_retry_after_without_it(unreachable: Flask) -> None:
    response = unreachable.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.get_json() == {"ready": False, "database": False}
    assert unreachable.test_client().get("/healthz").status_code == 200


def test_a_database_error_is_503_with_retry_after(unreachable: Flask) -> None:
    response = unreachable.test_client().get(
        "/api/layers/villages.geojson", headers={"Authorization": "Bearer wgt_any"}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"


def test_metrics_from_the_machine_by_url_rule(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/api/v1/households/12345").status_code == 401
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    assert 'endpoint="/api/v1/households/<int:household_id>"' in text
    assert "/api/v1/households/12345" not in text
    assert 'wangge_db_pool_size{engine="app"}' in text
    assert "# TYPE wangge_imports_total counter" in text


def test_metrics_from_elsewhere_for_admins_only(
    app: Flask, accounts: dict[str, conftest.Account]
) -> None:
    client = app.test_client()
    client.environ_base.update(ELSEWHERE)
    assert client.get("/metrics").status_code == 403
    commander = {"Authorization": f"Bearer {accounts['commander'].token}"}
    assert client.get("/metrics", headers=commander).status_code == 403
    admin = {"Authorization": f"Bearer {accounts['admin'].token}"}
    assert client.get("/metrics", headers=admin).status_code == 200


def test_every_answer_carries_a_request_id(app: Flask) -> None:
    client = app.test_client()
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert len(generated) == 32
    given = client.get("/nowhere", headers={"X-Request-Id": "abc-123-def"})
    assert given.headers["X-Request-Id"] == "abc-123-def"
    forged = client.get("/healthz", headers={"X-Request-Id": "<script>x</script>"})
    assert forged.headers["X-Request-Id"] != "<script>x</script>"
