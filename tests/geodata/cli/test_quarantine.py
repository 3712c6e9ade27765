"""`wangge quarantine` on the sample town: the contract's keys, refusals exit 1, a release
twice says so, a grid worker sees their own grids only."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import text

from tests.conftest import TestDatabase, make_account
from tests.geodata.cli.test_accounts import invoke


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    return throwaway_sample_db


def _resident(db: TestDatabase) -> tuple[str, str]:
    with db.owner.connect() as conn:
        row = conn.execute(
            text(
                "SELECT r.source_id, g.code FROM residents r JOIN households h"
                " ON h.id = r.household_id JOIN grids g ON g.id = h.grid_id WHERE NOT EXISTS"
                " (SELECT 1 FROM quarantines x WHERE x.resident_id = r.id) ORDER BY r.id LIMIT 1"
            )
        ).one()
    return str(row.source_id), str(row.code)


def test_add_list_due_check_release(town: TestDatabase) -> None:
    resident, grid = _resident(town)
    added = invoke(town, "quarantine", "add", "--resident", resident, "--type", "home",
                   "--reason", "returnee", "--origin", "武汉", "--start", "2026-12-01T23:30",
                   "--format", "json")  # fmt: skip
    assert added.exit_code == 0, added.output
    made = orjson.loads(added.stdout)
    assert set(made) >= {"id", "resident", "grid", "type", "start", "end", "status"}
    assert (made["resident"], made["grid"], made["status"]) == (resident, grid, "active")
    listed = orjson.loads(invoke(town, "quarantine", "list", "--status", "active",
                                 "--format", "json").stdout)  # fmt: skip
    assert made["id"] in {x["id"] for x in listed["quarantines"]}
    due = invoke(town, "quarantine", "due", "--date", "2026-12-02", "--format", "json")
    assert due.exit_code == 0, due.output
    report = orjson.loads(due.stdout)
    mine = [c for c in report["checks"] if c["quarantine"] == made["id"]]
    assert [set(c) >= {"quarantine", "resident", "grid", "window", "done", "missed"}
            for c in mine] == [True, True]  # fmt: skip
    assert set(report) >= {"checks", "missed_by_grid"}
    fahrenheit = invoke(town, "quarantine", "check", str(made["id"]), "--temperature-c", "98.6",
                        "--at", "2026-12-02T08:00")  # fmt: skip
    assert fahrenheit.exit_code == 1
    assert "°F" in fahrenheit.output
    ok = invoke(town, "quarantine", "check", str(made["id"]), "--temperature-c", "36.5",
                "--at", "2026-12-02T08:00", "--format", "json")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    first = invoke(town, "quarantine", "release", str(made["id"]), "--reason", "negative test")
    assert first.exit_code == 0, first.output
    assert "released" in first.output
    second = invoke(town, "quarantine", "release", str(made["id"]), "--reason", "again")
    assert second.exit_code == 0
    assert "released already" in second.output


def test_a_grid_worker_sees_own_grids(town: TestDatabase) -> None:
    resident, grid = _resident(town)
    make_account(town, "q-worker", "grid_worker", grid_codes=(grid,))
    with town.owner.connect() as conn:
        other = conn.execute(
            text("SELECT code FROM grids WHERE code <> :g ORDER BY code LIMIT 1"), {"g": grid}
        ).scalar_one()
    make_account(town, "q-other", "grid_worker", grid_codes=(other,))
    add = ("quarantine", "add", "--resident", resident, "--type", "observation",
           "--reason", "fever", "--start", "2026-12-01T09:00", "--format", "json")  # fmt: skip
    refused = invoke(town, "--as", "q-other", *add)
    assert refused.exit_code != 0
    done = invoke(town, "--as", "q-worker", *add)
    assert done.exit_code == 0, done.output
    qid = orjson.loads(done.stdout)["id"]
    theirs = orjson.loads(invoke(town, "--as", "q-other", "quarantine", "list",
                                 "--format", "json").stdout)  # fmt: skip
    assert qid not in {x["id"] for x in theirs["quarantines"]}
    assert invoke(town, "--as", "q-worker", "quarantine", "release", str(qid),
                  "--reason", "x").exit_code == 3  # fmt: skip
