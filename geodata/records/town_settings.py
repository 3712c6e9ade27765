"""The town's settings: typed keys with defaults, validated before they are stored.

Each key is declared once in `KEYS` with its default and its parser. A stored value
overrides the default; `setting(conn, key)` reads one, `town_timezone(conn)` the time zone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Connection, text

from geodata.analysis.patrol_duty import DutyClock
from geodata.records.refusal import RecordRefused
from geodata.town_time import TOWN_TIMEZONE


class _InvalidValueError(ValueError):
    """A value a key does not take; the message is the reason."""


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise _InvalidValueError("must be a whole number") from None
        if not low <= value <= high:
            raise _InvalidValueError(f"must be between {low} and {high}")
        return value

    return parse


def _timezone(raw: str) -> str:
    name = raw.strip()
    if name not in available_timezones():
        raise _InvalidValueError("must be an IANA time zone name such as Asia/Shanghai")
    return name


SHIFT_PATTERNS = ("3x8",)
"""The shift patterns a rota can make: three shifts of eight hours from 00:00."""


def _shift_pattern(raw: str) -> str:
    if raw.strip() not in SHIFT_PATTERNS:
        raise _InvalidValueError(f"must be one of {', '.join(SHIFT_PATTERNS)}")
    return raw.strip()


WINDOW = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])")


def _windows(raw: str) -> str:
    """`07:00-12:00,14:00-20:00`: the follow-up windows of a day, in order, not overlapping."""
    spans = [w.strip() for w in raw.split(",") if w.strip()]
    if not spans:
        raise _InvalidValueError("at least one window such as 07:00-12:00")
    last_end = -1
    for span in spans:
        found = WINDOW.fullmatch(span)
        if found is None:
            raise _InvalidValueError(f"{span!r}: a window is HH:MM-HH:MM")
        a, b = (int(found[1]) * 60 + int(found[2]), int(found[3]) * 60 + int(found[4]))
        if b <= a or b > 24 * 60:
            raise _InvalidValueError(f"{span!r}: ends before it starts")
        if a < last_end:
            raise _InvalidValueError(f"{span!r}: overlaps or precedes the window before it")
        last_end = b
    return ",".join(spans)


CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _clock(raw: str) -> str:
    """`16:00`: a time of the town's day."""
    value = raw.strip()
    if CLOCK.fullmatch(value) is None:
        raise _InvalidValueError("a time of day is HH:MM (00:00 to 23:59)")
    return value


@dataclass(frozen=True)
class Key:
    """One setting: its default, how a typed value is read, and what it means."""

    default: Any
    parse: Callable[[str], Any]
    about: str


KEYS: dict[str, Key] = {
    "timezone": Key(
        TOWN_TIMEZONE.key, _timezone, "the town's wall clock: days, shifts and as-of dates"
    ),
    "hours_limit_per_person": Key(
        12, _int_between(1, 24), "most hours a person may work in any 24 hours"
    ),
    "shift_pattern": Key("3x8", _shift_pattern, "the rota's default pattern of shifts"),
    "planned_change_grace_minutes": Key(
        5, _int_between(0, 1440), "how far in the past a planned change may still be dated"
    ),
    "quarantine_days_home": Key(14, _int_between(1, 60), "days of a home quarantine (居家隔离)"),
    "quarantine_days_observation": Key(
        14, _int_between(1, 60), "days of a home observation (居家留观)"
    ),
    "quarantine_days_concentrated": Key(
        14, _int_between(1, 60), "days of a concentrated isolation (集中隔离)"
    ),
    "check_windows": Key(
        "07:00-12:00,14:00-20:00", _windows, "a quarantined person's check windows of a day"
    ),
    "screening_window_days": Key(
        14, _int_between(1, 60), "a household with nobody in quarantine is visited this often"
    ),
    "report_time": Key("16:00", _clock, "the units' daily reports are due by this time"),
    "summary_time": Key("18:00", _clock, "the daily summary is issued at this time"),
    "tasks_time": Key("19:00", _clock, "tomorrow's task lists are built at this time"),
    "minutes_per_visit": Key(
        10, _int_between(1, 240), "minutes a household visit takes, for balancing task lists"
    ),
    "patrol_day_starts": Key("06:00", _clock, "the day patrol starts, and the duty day"),
    "patrol_night_starts": Key("18:00", _clock, "the night patrol starts"),
    "walking_speed_kmh": Key(
        4, _int_between(1, 30), "a patrol's walking speed, for estimated patrol hours"
    ),
    "patrol_stop_minutes": Key(
        2, _int_between(0, 120), "minutes a patrol stops at each checkpoint or open entrance"
    ),
    "disinfection_grace_minutes": Key(
        30, _int_between(0, 720), "how late a place's disinfection round may be before overdue"
    ),
}
"""Every key the town knows; later features add theirs here."""


def _key(key: str) -> Key:
    spec = KEYS.get(key)
    if spec is None:
        raise RecordRefused(f"town setting {key!r}: unknown key (known: {', '.join(KEYS)})")
    return spec


def parse(key: str, raw: str) -> Any:
    """A typed value for `key` from text, or a refusal naming the key and the reason."""
    spec = _key(key)
    try:
        return spec.parse(raw)
    except _InvalidValueError as exc:
        raise RecordRefused(f"town setting {key!r}: {exc}") from None


def _stored(conn: Connection) -> dict[str, Any]:
    rows = conn.execute(text("SELECT key, value FROM town_settings")).all()
    return {row.key: row.value for row in rows}


def setting(conn: Connection, key: str) -> Any:
    """The value of one setting: stored, or its default."""
    return settings(conn, key)[key]


def settings(conn: Connection, *keys: str) -> dict[str, Any]:
    """The values of several settings in one read: stored, or their defaults."""
    specs = {key: _key(key) for key in keys}
    rows = conn.execute(
        text("SELECT key, value FROM town_settings WHERE key = ANY(:keys)"), {"keys": list(keys)}
    ).all()
    stored = {row.key: row.value for row in rows}
    return {
        key: spec.default if stored.get(key) is None else stored[key] for key, spec in specs.items()
    }


def all_settings(conn: Connection) -> list[dict[str, Any]]:
    """Every key with its value, whether that is the default, and what it means."""
    stored = _stored(conn)
    return [
        {
            "key": key,
            "value": stored.get(key, spec.default),
            "default": key not in stored,
            "about": spec.about,
        }
        for key, spec in KEYS.items()
    ]


def set_setting(conn: Connection, key: str, raw: str, *, actor: str) -> tuple[Any, Any]:
    """Store a validated value; returns (old value, new value)."""
    new = parse(key, raw)
    old = setting(conn, key)
    conn.execute(
        text(
            "INSERT INTO town_settings (key, value, updated_at, updated_by) "
            "VALUES (:k, CAST(:v AS jsonb), now(), :by) ON CONFLICT (key) DO UPDATE "
            "SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by"
        ),
        {"k": key, "v": _json(new), "by": actor},
    )
    return old, new


def _json(value: Any) -> str:
    return json.dumps(value)


def duty_clock(conn: Connection) -> DutyClock:
    """When the town's day and night patrols start (the duty day, `analysis.patrol_duty`)."""
    day, night = (
        time.fromisoformat(str(setting(conn, k)))
        for k in ("patrol_day_starts", "patrol_night_starts")
    )
    return DutyClock(day, night, town_timezone(conn))


def town_timezone(conn: Connection) -> ZoneInfo:
    """The town's time zone: the `timezone` setting, else `town_time.TOWN_TIMEZONE`."""
    return timezone_named(setting(conn, "timezone"))


def timezone_named(name: Any) -> ZoneInfo:
    """The zone of a `timezone` setting's value, else `town_time.TOWN_TIMEZONE`."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return TOWN_TIMEZONE
