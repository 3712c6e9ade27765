"""`wangge inspections` and `wangge rectifications` on a hand-made town that is committed:
an inspection, an item fixed and verified, the fixer refused as verifier (exit 1), a role
that may not (exit 3)."""

from __future__ import annotations

import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from geodata.cli import main
from tests.conftest import TestDatabase, make_account
from tests.geodata.records.test_supervision import town


def invoke(db: TestDatabase, *args: str, user: str = "") -> Result:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
        "WANGGE_USER": user,
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def db(throwaway_db: TestDatabase) -> TestDatabase:
    with throwaway_db.owner.begin() as c:
        town(c)
    return throwaway_db


def test_inspect_then_fix_and_verify(db: TestDatabase) -> None:
    added = invoke(
        db, "inspections", "add", "test:checkpoint/cp1", "--inspector", "test:staff/b",
        "--staff-present", "--temperatures-taken", "--no-register-kept", "--masks",
        "--disinfection", "--notes", "register missing", "--format", "json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    inspection = orjson.loads(added.stdout)["id"]
    listed = orjson.loads(invoke(db, "inspections", "list", "--format", "json").stdout)
    assert [i["id"] for i in listed["inspections"]] == [inspection]
    assert listed["inspections"][0]["register_kept"] is False
    assert listed["not_inspected"] == ["test:checkpoint/cp2"]

    item = invoke(
        db, "rectifications", "add", "test:checkpoint/cp1", "--description", "keep a register",
        "--owner", "test:staff/a", "--deadline", "2020-01-01T12:00", "--inspection",
        str(inspection), "--format", "json",
    )  # fmt: skip
    assert item.exit_code == 0, item.output
    item_id = str(orjson.loads(item.stdout)["id"])
    overdue = orjson.loads(invoke(db, "inspections", "overdue", "--format", "json").stdout)
    assert [str(i["id"]) for i in overdue] == [item_id]

    fixed = invoke(db, "rectifications", "fix", item_id, "--by", "test:staff/a")
    assert fixed.exit_code == 0, fixed.output
    same = invoke(db, "rectifications", "verify", item_id, "--by", "test:staff/a")
    assert same.exit_code == 1
    assert "the person who fixed an item cannot verify it" in same.output
    stale = invoke(db, "rectifications", "verify", item_id, "--by", "test:staff/b",
                   "--version", "1")  # fmt: skip
    assert stale.exit_code == 1
    assert "version: 1 is stale" in stale.output
    done = invoke(db, "rectifications", "verify", item_id, "--by", "test:staff/b",
                  "--format", "json")  # fmt: skip
    assert orjson.loads(done.stdout)["status"] == "verified"
    listed_items = invoke(db, "rectifications", "list", "--status", "verified", "--format", "json")
    assert [str(i["id"]) for i in orjson.loads(listed_items.stdout)] == [item_id]
    with db.owner.connect() as c:
        actions = set(c.execute(text("SELECT action FROM audit_events")).scalars())
    assert {"inspection_add", "rectification_fix", "rectification_verify"} <= actions


def test_refusals(db: TestDatabase) -> None:
    unknown = invoke(db, "rectifications", "add", "test:checkpoint/nowhere", "--description",
                     "x", "--owner", "test:staff/a", "--deadline", "2030-01-01")  # fmt: skip
    assert unknown.exit_code == 1
    assert "checkpoint 'test:checkpoint/nowhere': no such checkpoint" in unknown.output
    make_account(db, "sup-planner", "planner")
    refused = invoke(db, "inspections", "list", user="sup-planner")
    assert refused.exit_code == 3
