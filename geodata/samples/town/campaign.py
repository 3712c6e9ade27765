"""The sample town's screening campaign (排查): a second full round over every grid, started
six days before today and due in eight days, so that its progress differs from grid to
grid as each grid's pace does."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd

from geodata.town_time import TOWN_TIMEZONE

NAME = "第二轮全面排查 Second full screening"
STARTED_DAYS_AGO = 6
DUE_IN_DAYS = 8


def plan_campaign(today: date) -> pd.DataFrame:
    """One row: name, starts_at, deadline (town midnights)."""
    start = datetime.combine(today - timedelta(days=STARTED_DAYS_AGO), time(), TOWN_TIMEZONE)
    deadline = datetime.combine(today + timedelta(days=DUE_IN_DAYS), time(), TOWN_TIMEZONE)
    return pd.DataFrame({"name": [NAME], "starts_at": [start], "deadline": [deadline]})
