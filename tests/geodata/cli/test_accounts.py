"""Accounts and personal data from the command line: scoped, masked, audited."""

from __future__ import annotations

import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from geodata.cli import main
from tests.conftest import TestDatabase


def invoke(db: TestDatabase, *args: str, stdin: str | None = None) -> Result:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
        "WANGGE_USER": "",
    }
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    """The sample town in the module's own database: each test adds its own users."""
    return throwaway_sample_db


def first_grid_codes(db: TestDatabase) -> tuple[str, str]:
    with db.owner.connect() as conn:
        a, b = conn.execute(text("SELECT code FROM grids ORDER BY code LIMIT 2")).scalars()
    return str(a), str(b)


def household_in(db: TestDatabase, grid_code: str) -> int:
    with db.owner.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT h.id FROM households h JOIN grids g ON g.id = h.grid_id "
                    "JOIN residents r ON r.household_id = h.id "
                    "WHERE g.code = :c ORDER BY h.id LIMIT 1"
                ),
                {"c": grid_code},
            ).scalar_one()
        )


def test_users_add_prints_an_activation_link_once(town: TestDatabase) -> None:
    result = invoke(town, "users", "add", "cmd1", "--role", "commander")
    assert result.exit_code == 0, result.output
    assert "/activate/" in result.output
    listed = orjson.loads(invoke(town, "users", "list", "--format", "json").stdout)
    (cmd1,) = (user for user in listed if user["username"] == "cmd1")
    assert cmd1["activated"] is False


def test_users_add_with_password_stdin_and_bad_input(town: TestDatabase) -> None:
    ok = invoke(town, "users", "add", "an1", "--role", "analyst", "--password-stdin",
                stdin="a long enough password\n")  # fmt: skip
    assert ok.exit_code == 0
    assert "/activate/" not in ok.output
    short = invoke(town, "users", "add", "an2", "--role", "analyst", "--password-stdin",
                   stdin="short\n")  # fmt: skip
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    no_grid = invoke(town, "users", "add", "gw0", "--role", "grid_worker")
    assert no_grid.exit_code == 2
    bad_name = invoke(town, "users", "add", "Bad Name!", "--role", "analyst")
    assert bad_name.exit_code == 2


def test_grid_worker_from_the_cli_is_scoped(town: TestDatabase) -> None:
    mine, theirs = first_grid_codes(town)
    assert (
        invoke(town, "users", "add", "gw1", "--role", "grid_worker", "--grids", mine).exit_code == 0
    )
    own = invoke(town, "--as", "gw1", "households", "show", str(household_in(town, mine)),
                 "--format", "json")  # fmt: skip
    assert own.exit_code == 0, own.output
    detail = orjson.loads(own.stdout)
    assert all("*" in r["id_number"] for r in detail["residents"])
    other = invoke(town, "--as", "gw1", "households", "show", str(household_in(town, theirs)))
    assert other.exit_code == 1
    assert "no household" in other.output
    refused = invoke(town, "--as", "gw1", "users", "list")
    assert refused.exit_code == 3


def test_reveal_and_audit_hold_no_personal_value(town: TestDatabase) -> None:
    mine, _ = first_grid_codes(town)
    invoke(town, "users", "add", "gw2", "--role", "grid_worker", "--grids", mine)
    hid = household_in(town, mine)
    with town.owner.connect() as conn:
        rid, id_number = conn.execute(
            text("SELECT id, id_number FROM residents WHERE household_id = :h ORDER BY id LIMIT 1"),
            {"h": hid},
        ).one()
    revealed = invoke(town, "--as", "gw2", "households", "reveal", str(rid), "id_number")
    assert revealed.output.strip() == id_number
    audit = invoke(town, "audit", "--since", "2000-01-01", "--format", "json")
    events = orjson.loads(audit.stdout)
    assert [e["action"] for e in events if e["actor"] == "gw2"] == ["reveal"]
    assert id_number not in audit.stdout
    with town.owner.connect() as conn:
        raw = conn.execute(text("SELECT string_agg(audit_events::text, ' ') FROM audit_events"))
        assert id_number not in str(raw.scalar())


def test_token_and_purge_dry_run(town: TestDatabase) -> None:
    invoke(town, "users", "add", "pl1", "--role", "planner")
    token = invoke(town, "users", "token", "pl1", "--expires-days", "7").output.strip()
    assert token.startswith("wgt_")
    with town.owner.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT t.token_hash FROM api_tokens t JOIN users u ON u.id = t.user_id"
                " WHERE u.username = 'pl1'"
            )
        ).scalar_one()
    assert token not in stored
    before = orjson.loads(invoke(town, "stats", "--format", "json").stdout)
    dry = orjson.loads(invoke(town, "purge", "--older-than", "1", "--format", "json").stdout)
    assert dry["dry_run"] is True
    after = orjson.loads(invoke(town, "stats", "--format", "json").stdout)
    assert before["visits"] == after["visits"]


def test_users_link_sets_the_staff_and_refuses_unknown_or_taken(town: TestDatabase) -> None:
    with town.owner.connect() as conn:
        first, second = conn.execute(
            text("SELECT source_id FROM staff ORDER BY id LIMIT 2")
        ).scalars()
    assert invoke(town, "users", "add", "linkw", "--role", "commander").exit_code == 0
    assert invoke(town, "users", "add", "linkx", "--role", "commander").exit_code == 0
    done = invoke(town, "users", "link", "linkw", "--staff", first)
    assert done.exit_code == 0, done.output
    unknown = invoke(town, "users", "link", "linkx", "--staff", "no-such-person")
    assert unknown.exit_code == 1
    assert "--staff: no staff with source id 'no-such-person'" in unknown.stderr
    taken = invoke(town, "users", "link", "linkx", "--staff", first)
    assert taken.exit_code == 1
    assert "linked to user 'linkw'" in taken.stderr
    assert invoke(town, "users", "link", "linkw", "--staff", second).exit_code == 0
    with town.owner.connect() as conn:
        linked: dict[str, str] = dict(
            conn.execute(
                text("SELECT u.username, s.source_id FROM users u JOIN staff s "
                     "ON s.id = u.staff_id WHERE u.username IN ('linkw', 'linkx')")
            ).all()
        )  # fmt: skip
        audited = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'user_link_staff'")
        ).scalar_one()
    assert linked == {"linkw": second}
    assert audited == 2
