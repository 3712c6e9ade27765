"""The town's settings: defaults, validation naming the key and the reason, the time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, text

from geodata.records import town_settings
from geodata.records.refusal import RecordRefused
from geodata.town_time import TOWN_TIMEZONE


def test_defaults_without_any_stored_value(conn: Connection) -> None:
    assert town_settings.setting(conn, "timezone") == "Asia/Shanghai"
    assert town_settings.setting(conn, "hours_limit_per_person") == 12
    assert town_settings.setting(conn, "shift_pattern") == "3x8"
    assert town_settings.setting(conn, "planned_change_grace_minutes") == 5
    assert town_settings.town_timezone(conn) == TOWN_TIMEZONE
    rows = town_settings.all_settings(conn)
    assert [r["key"] for r in rows] == list(town_settings.KEYS)
    assert all(r["default"] for r in rows)


def test_set_stores_a_typed_value_and_returns_old_and_new(conn: Connection) -> None:
    assert town_settings.set_setting(conn, "hours_limit_per_person", " 10 ", actor="t") == (12, 10)
    assert town_settings.setting(conn, "hours_limit_per_person") == 10
    town_settings.set_setting(conn, "timezone", "Asia/Urumqi", actor="t")
    assert town_settings.town_timezone(conn) == ZoneInfo("Asia/Urumqi")
    by = conn.execute(text("SELECT updated_by FROM town_settings WHERE key = 'timezone'"))
    assert by.scalar_one() == "t"
    (row,) = (r for r in town_settings.all_settings(conn) if r["key"] == "timezone")
    assert row == {**row, "value": "Asia/Urumqi", "default": False}


def test_several_settings_in_one_read_equal_each_read_alone(conn: Connection) -> None:
    keys = ("timezone", "screening_window_days", "hours_limit_per_person")
    assert town_settings.settings(conn, *keys) == {k: town_settings.setting(conn, k) for k in keys}
    town_settings.set_setting(conn, "timezone", "Asia/Urumqi", actor="t")
    town_settings.set_setting(conn, "hours_limit_per_person", "10", actor="t")
    read = town_settings.settings(conn, *keys)
    assert read == {k: town_settings.setting(conn, k) for k in keys}
    assert read["timezone"] == "Asia/Urumqi"
    assert read["hours_limit_per_person"] == 10
    assert town_settings.timezone_named(read["timezone"]) == ZoneInfo("Asia/Urumqi")
    assert town_settings.timezone_named("Mars/Olympus") == TOWN_TIMEZONE
    with pytest.raises(RecordRefused, match="unknown key"):
        town_settings.settings(conn, "timezone", "colour")


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("hours_limit_per_person", "25", "between 1 and 24"),
        ("hours_limit_per_person", "0", "between 1 and 24"),
        ("hours_limit_per_person", "twelve", "whole number"),
        ("planned_change_grace_minutes", "1441", "between 0 and 1440"),
        ("planned_change_grace_minutes", "-1", "between 0 and 1440"),
        ("timezone", "Mars/Olympus", "IANA time zone"),
        ("shift_pattern", "2x12", "one of 3x8"),
        ("colour", "red", "unknown key"),
    ],
)
def test_bad_values_and_unknown_keys_are_refused(
    conn: Connection, key: str, value: str, reason: str
) -> None:
    with pytest.raises(RecordRefused, match=reason) as refused:
        town_settings.set_setting(conn, key, value, actor="t")
    assert repr(key) in str(refused.value)
    assert conn.execute(text("SELECT count(*) FROM town_settings")).scalar_one() == 0
