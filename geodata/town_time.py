"""The town's wall clock: days, shifts and "as of" dates are read in this time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

TOWN_TIMEZONE = ZoneInfo("Asia/Shanghai")
