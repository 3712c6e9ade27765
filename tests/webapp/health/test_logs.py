"""The served app's log: JSON lines, each request's with its id, and never a resident's name or
ID number, whatever the requests carried or answered."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

from sqlalchemy import text

from tests import conftest
from tests.conftest import TestDatabase
from tests.served import Client, serving


def test_logs_are_json_lines_without_personal_values(
    throwaway_sample_db: TestDatabase, tmp_path: Path
) -> None:
    database = throwaway_sample_db
    admin = conftest.make_account(database, "log-admin", "admin")
    with database.owner.connect() as c:
        people = c.execute(
            text("SELECT id, household_id, name, id_number, phone FROM residents ORDER BY id")
        ).all()
    assert len(people) > 100
    rid, household, name, id_number, phone = people[0]
    bearer = {"Authorization": f"Bearer {admin.token}"}
    log_file = tmp_path / "serve.log"
    with log_file.open("wb") as stderr, serving(database, stderr=stderr) as url:
        client = Client()
        assert client.request(f"{url}/api/v1/households?limit=500", headers=bearer).status == 200
        shown = client.request(f"{url}/api/v1/households/{household}", headers=bearer)
        assert shown.status == 200
        for field in ("name", "id_number", "phone"):
            revealed = client.request(
                f"{url}/api/v1/residents/{rid}/reveal",
                body=json.dumps({"field": field}).encode(),
                headers={**bearer, "Content-Type": "application/json"},
            )
            assert revealed.status == 200
            assert str(json.loads(revealed.body)["value"]) in (name, id_number, phone)
        query = urllib.parse.urlencode({"q": name, "id": id_number})
        client.request(f"{url}/api/v1/households/{household}?{query}", headers=bearer)
        client.request(f"{url}/households?{query}", headers=bearer)
        token = client.csrf_token(url)
        failed = client.request(
            f"{url}/login", form={"username": name, "password": id_number, "csrf_token": token}
        )
        assert failed.status == 401
    logged = log_file.read_bytes()
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith(b"{")]
    requests = [line for line in lines if line.get("message") == "request"]
    assert len(requests) >= 9
    assert all(len(line["request_id"]) == 32 for line in requests)
    assert {"method", "endpoint", "status", "duration_ms"} <= set(requests[0])
    endpoints = {line["endpoint"] for line in requests}
    assert "/api/v1/residents/<int:resident_id>/reveal" in endpoints
    for _id, _household, *values in people:
        for value in values:
            if value:
                assert value.encode() not in logged, "a personal value reached the log"
