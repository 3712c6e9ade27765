"""Several processes serving one database: the login limit holds across them, and the metrics
of every worker are summed."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from tests import conftest
from tests.conftest import TestDatabase
from tests.served import Client, serving

WRONG = "not the password at all"


@pytest.fixture(scope="module")
def database(throwaway_db: TestDatabase) -> TestDatabase:
    conftest.make_account(throwaway_db, "two-proc", "planner")
    conftest.make_account(throwaway_db, "gunicorn-user", "planner")
    return throwaway_db


def _attempt(client: Client, base_url: str, username: str, password: str) -> int:
    token = client.csrf_token(base_url)
    form = {"username": username, "password": password, "csrf_token": token}
    return client.request(f"{base_url}/login", form=form).status


def test_the_login_limit_holds_across_two_processes(database: TestDatabase) -> None:
    with serving(database) as first, serving(database) as second:
        client = Client()
        servers = [first, second, first, second, first]
        statuses = [_attempt(client, url, "two-proc", WRONG) for url in servers]
        assert statuses == [401] * 5  # 3 on one process, 2 on the other: 5 per account
        assert _attempt(client, second, "two-proc", WRONG) == 429
        assert _attempt(client, first, "two-proc", conftest.PASSWORD) == 429
        # another account is not held back by this one's count
        assert _attempt(client, second, "gunicorn-user", WRONG) == 401


def test_several_workers_serve_share_the_limit_and_sum_their_metrics(
    database: TestDatabase, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr, serving(database, "--workers", "2", "--threads", "2",
                                           stderr=stderr) as url:  # fmt: skip
        client = Client()
        ready = client.request(f"{url}/readyz")
        assert (ready.status, ready.body) == (200, b'{"ready":true,"database":true}')
        statuses = [_attempt(Client(), url, "gunicorn-user", WRONG) for _ in range(4)]
        assert statuses == [401] * 4  # and one earlier, from the test above or none
        assert _attempt(Client(), url, "gunicorn-user", WRONG) in (401, 429)
        assert _attempt(Client(), url, "gunicorn-user", WRONG) == 429
        metrics = client.request(f"{url}/metrics")
        assert metrics.status == 200
        text = metrics.body.decode()
        failed = re.search(
            r'wangge_http_requests_total\{endpoint="/login",method="POST",status="401"\} (\S+)',
            text,
        )
        limited = re.search(
            r'wangge_http_requests_total\{endpoint="/login",method="POST",status="429"\} (\S+)',
            text,
        )
        assert failed
        assert limited
        assert float(failed.group(1)) + float(limited.group(1)) == 6
        assert 'wangge_db_pool_checked_out{engine="app"}' in text
        assert "wangge_http_request_duration_seconds_bucket" in text
    lines = log.read_bytes().splitlines()
    logged = [orjson.loads(line) for line in lines if line.strip()]  # every line is JSON
    assert any(line["logger"] == "gunicorn.error" for line in logged)
    assert sum(line.get("message") == "request" for line in logged) >= 8
