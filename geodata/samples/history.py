"""How far back the records of the sample and synthetic towns reach."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from geodata.town_time import TOWN_TIMEZONE

HISTORY_DAYS = 30
"""Checkpoints stand from this many days before the town's reference day: before any of its
visits (14 days), shifts (7 days) or quarantines."""


def history_start(day: date) -> datetime:
    """Midnight, town time, HISTORY_DAYS before `day`."""
    return datetime.combine(day - timedelta(days=HISTORY_DAYS), time(), tzinfo=TOWN_TIMEZONE)
