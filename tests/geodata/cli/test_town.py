"""`wangge town show|set`: admins set, everyone reads, every change audited."""

from __future__ import annotations

import orjson
from sqlalchemy import text

from tests.conftest import TestDatabase, make_account
from tests.geodata.cli.test_accounts import invoke


def test_show_set_and_audit(throwaway_db: TestDatabase) -> None:
    shown = invoke(throwaway_db, "town", "show", "--format", "json")
    assert shown.exit_code == 0, shown.output
    values = {r["key"]: r["value"] for r in orjson.loads(shown.stdout)}
    assert values["hours_limit_per_person"] == 12
    done = invoke(throwaway_db, "town", "set", "hours_limit_per_person", "10")
    assert done.exit_code == 0, done.output
    assert "12 -> 10" in done.stdout
    shown = orjson.loads(invoke(throwaway_db, "town", "show", "--format", "json").stdout)
    (limit,) = (r for r in shown if r["key"] == "hours_limit_per_person")
    assert (limit["value"], limit["default"]) == (10, False)
    with throwaway_db.owner.connect() as conn:
        detail = conn.execute(
            text("SELECT detail FROM audit_events WHERE action = 'town_setting_set'")
        ).scalar_one()
    assert detail == {"key": "hours_limit_per_person", "old": 12, "new": 10}


def test_bad_value_exits_1_and_a_commander_exits_3(throwaway_db: TestDatabase) -> None:
    bad = invoke(throwaway_db, "town", "set", "planned_change_grace_minutes", "9999")
    assert bad.exit_code == 1
    assert "planned_change_grace_minutes" in bad.stderr
    assert "between 0 and 1440" in bad.stderr
    unknown = invoke(throwaway_db, "town", "set", "colour", "red")
    assert unknown.exit_code == 1
    assert "unknown key" in unknown.stderr
    make_account(throwaway_db, "cmd-town", "commander")
    refused = invoke(throwaway_db, "--as", "cmd-town", "town", "set", "shift_pattern", "3x8")
    assert refused.exit_code == 3
    with throwaway_db.owner.connect() as conn:
        stored = conn.execute(text("SELECT key FROM town_settings ORDER BY key")).scalars().all()
    assert stored == ["hours_limit_per_person"]
