"""`wangge entrances|checkpoints set-state` and `wangge shifts put-on|take-off` on the sample
town: the change, its refusals (exit 1, naming the field) and the role that may not (3)."""

from __future__ import annotations

import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from geodata.cli import main
from tests import conftest
from tests.conftest import TestDatabase


def invoke(db: TestDatabase, *args: str, user: str = "") -> Result:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
        "WANGGE_USER": user,
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    with throwaway_sample_db.owner.begin() as c:
        c.execute(
            text(
                "INSERT INTO staff (source_id, name, role, village_id) VALUES"
                " ('ops-cli-staff', 'Duty Officer', 'checkpoint_staff',"
                " (SELECT min(id) FROM villages))"
            )
        )
    return throwaway_sample_db


def _one(db: TestDatabase, sql: str) -> str:
    with db.owner.connect() as c:
        return str(c.execute(text(sql)).scalar_one())


def test_an_entrance_is_sealed_from_the_command_line(town: TestDatabase) -> None:
    e = _one(town, "SELECT source_id FROM entrances WHERE state = 'open' ORDER BY id LIMIT 1")
    done = invoke(
        town, "entrances", "set-state", e, "sealed", "--responsible", "ops-cli-staff",
        "--reason", "a case next door", "--format", "json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    body = orjson.loads(done.stdout)
    assert body["state"] == "sealed"
    assert body["source_id"] == e


def test_a_checkpoint_is_closed_later_and_the_plan_listed(town: TestDatabase) -> None:
    cp = _one(town, "SELECT source_id FROM checkpoints WHERE state = 'active' ORDER BY id LIMIT 1")
    done = invoke(
        town, "checkpoints", "set-state", cp, "closed", "--responsible", "ops-cli-staff",
        "--reason", "night", "--effective-at", "2999-01-01T22:00", "--format", "json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    body = orjson.loads(done.stdout)
    assert body["state"] == "active"
    assert [p["state"] for p in body["planned"]] == ["closed"]


def test_refusals_exit_1_naming_the_field(town: TestDatabase) -> None:
    e = _one(town, "SELECT source_id FROM entrances ORDER BY id LIMIT 1")
    unknown = invoke(
        town, "entrances", "set-state", e, "sealed", "--responsible", "nobody",
        "--reason", "r",
    )  # fmt: skip
    assert unknown.exit_code == 1
    assert f"entrance {e}: responsible: no such staff member" in unknown.stderr
    past = invoke(
        town, "entrances", "set-state", e, "sealed", "--responsible", "ops-cli-staff",
        "--reason", "r", "--effective-at", "2020-01-01T08:00",
    )  # fmt: skip
    assert past.exit_code == 1
    assert "effective_at: more than 5 minutes in the past" in past.stderr
    missing = invoke(town, "entrances", "set-state", "no-such-entrance", "sealed",
                     "--responsible", "ops-cli-staff", "--reason", "r")  # fmt: skip
    assert missing.exit_code == 1


def test_a_planner_may_not_operate(town: TestDatabase) -> None:
    conftest.make_account(town, "ops-cli-planner", "planner")
    e = _one(town, "SELECT source_id FROM entrances ORDER BY id LIMIT 1")
    refused = invoke(
        town, "entrances", "set-state", e, "sealed", "--responsible", "ops-cli-staff",
        "--reason", "r", user="ops-cli-planner",
    )  # fmt: skip
    assert refused.exit_code == 3


def test_shifts_put_on_and_take_off(town: TestDatabase) -> None:
    with town.owner.begin() as c:
        shift = c.execute(
            text(
                "SELECT s.id, c.village_id FROM checkpoint_shifts s JOIN checkpoints c"
                " ON c.id = s.checkpoint_id WHERE c.village_id IS NOT NULL ORDER BY s.id LIMIT 1"
            )
        ).one()
        c.execute(
            text(
                "UPDATE checkpoint_shifts SET source_id = 'ops-cli-shift',"
                " starts_at = '2031-05-01T08:00+08', ends_at = '2031-05-01T16:00+08'"
                " WHERE id = :s"
            ),
            {"s": shift.id},
        )
        c.execute(
            text(
                "INSERT INTO staff (source_id, name, role, village_id) VALUES"
                " ('ops-cli-guard', 'Guard', 'checkpoint_staff', :v)"
            ),
            {"v": shift.village_id},
        )
    on = invoke(
        town, "shifts", "put-on", "ops-cli-shift", "ops-cli-guard",
        "--responsible", "ops-cli-staff", "--reason", "cover", "--format", "json",
    )  # fmt: skip
    assert on.exit_code == 0, on.output
    assert "ops-cli-guard" in orjson.loads(on.stdout)["staff"]
    off = invoke(
        town, "shifts", "take-off", "ops-cli-shift", "ops-cli-guard",
        "--responsible", "ops-cli-staff", "--reason", "home", "--format", "json",
        "--effective-at", "2031-05-01T12:00",
    )  # fmt: skip
    assert off.exit_code == 0, off.output
    shown = orjson.loads(off.stdout)
    assert "ops-cli-guard" not in shown["staff"]
    guard = [p for p in shown["people"] if p["staff"] == "ops-cli-guard"]
    assert guard == [
        {"staff": "ops-cli-guard", "from": "2031-05-01T00:00:00+00:00",
         "until": "2031-05-01T04:00:00+00:00"}
    ]  # fmt: skip
    planned = [(p["change"], p["staff"], p["effective_at"]) for p in shown["planned"]]
    assert planned == [("take_off", "ops-cli-guard", "2031-05-01T04:00:00+00:00")]
