"""The town's wall clock: days, shifts and "as of" dates are read in this time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

TOWN_TIMEZONE = ZoneInfo("Asia/Shanghai")


def town_today() -> date:
    """The day it is now on the town's wall clock (not the machine's, which may be a day
    behind or ahead: in UTC, the evening is already the next day in the town)."""
    return datetime.now(TOWN_TIMEZONE).date()
