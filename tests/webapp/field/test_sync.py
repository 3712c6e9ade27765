"""The sync of a visit over HTTP: replays answer the same, conflicts 409, refusals 400/404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import conftest
from webapp import create_app


@pytest.fixture(scope="module")
def sync(throwaway_sample_db: conftest.TestDatabase) -> tuple[Flask, conftest.TestDatabase, str]:
    database = throwaway_sample_db
    my_grid, _ = conftest.two_settled_grids(database)
    worker = conftest.make_account(database, "sync-worker", "grid_worker", grid_codes=(my_grid,))
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return app, database, worker.token


def _client(sync: tuple[Flask, conftest.TestDatabase, str]) -> FlaskClient:
    app, _, token = sync
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _households(database: conftest.TestDatabase, mine: bool) -> list[int]:
    with database.owner.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT h.id FROM households h WHERE (h.grid_id IN (SELECT ug.grid_id FROM"
                    " user_grids ug JOIN users u ON u.id = ug.user_id"
                    " WHERE u.username = 'sync-worker')) = :mine ORDER BY h.id LIMIT 2"
                ),
                {"mine": mine},
            ).scalars()
        )


def _post(client: FlaskClient, household: int, key: str, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/households/{household}/visits", json=body, headers={"Idempotency-Key": key}
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


def test_replays_conflicts_and_refusals(sync: tuple[Flask, conftest.TestDatabase, str]) -> None:
    client = _client(sync)
    _, database, _ = sync
    mine, second = _households(database, mine=True)
    [theirs, *_] = _households(database, mine=False)
    body = {"visited_at": _now(), "result": "seen_all", "people_seen": 3, "fever_count": 0,
            "temperatures": [], "late": False}  # fmt: skip
    first = _post(client, mine, "field-sync-0001", body)
    again = _post(client, mine, "field-sync-0001", body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.get_json() == again.get_json()
    assert first.get_json()["people_seen"] == 3
    assert _post(client, mine, "field-sync-0001", {**body, "people_seen": 2}).status_code == 409
    assert _post(client, second, "field-sync-0001", body).status_code == 409
    assert _post(client, theirs, "field-sync-0002", body).status_code == 404
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    old = (datetime.now(UTC) - timedelta(days=8)).isoformat()
    refused = {
        "future": _post(client, mine, "field-sync-0003", {**body, "visited_at": future}),
        "old": _post(client, mine, "field-sync-0004", {**body, "visited_at": old}),
        "result": _post(client, mine, "field-sync-0005", {**body, "result": "maybe"}),
        "count": _post(client, mine, "field-sync-0006", {**body, "people_seen": -1}),
        "no key": client.post(f"/api/v1/households/{mine}/visits", json=body),
        "hot": _post(
            client,
            mine,
            "field-sync-0008",
            {
                **body,
                "temperatures": [
                    {"resident": "anyone", "window": "07:00-12:00", "temperature_c": 45.0}
                ],
            },
        ),
        "°F": _post(
            client,
            mine,
            "field-sync-0009",
            {
                **body,
                "temperatures": [
                    {"resident": "anyone", "window": "07:00-12:00", "temperature_c": 98.6}
                ],
            },
        ),
        "NaN text": _post(
            client,
            mine,
            "field-sync-0010",
            {
                **body,
                "temperatures": [
                    {"resident": "anyone", "window": "07:00-12:00", "temperature_c": "warm"}
                ],
            },
        ),
    }
    assert {k: r.status_code for k, r in refused.items()} == dict.fromkeys(refused, 400)
    assert "visited_at" in refused["future"].get_json()["message"]
    assert "temperature_c" in refused["hot"].get_json()["message"]
    late = _post(client, mine, "field-sync-0007", {**body, "visited_at": old, "late": True})
    assert late.status_code == 201
    with database.owner.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM visits WHERE source_id LIKE 'visit:sync-worker:field-%'")
        ).scalar_one()
    assert n == 2
