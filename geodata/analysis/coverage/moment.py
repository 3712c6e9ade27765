"""The moment a coverage report is computed as of, read from an ISO date or date-time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from geodata.errors import ConfigError
from geodata.town_time import TOWN_TIMEZONE


def parse_as_of(value: str) -> datetime:
    """`2026-11-20` (the end of that day) or `2026-11-20T09:00[+08:00]` as an aware datetime."""
    raw = value.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            end = datetime.combine(day + timedelta(days=1), time(), tzinfo=TOWN_TIMEZONE)
            return end - timedelta(microseconds=1)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"not an ISO date or date-time: {value!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=TOWN_TIMEZONE)
