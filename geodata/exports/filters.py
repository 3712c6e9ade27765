"""What part of a layer an export or a page of features asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from geodata.town_time import TOWN_TIMEZONE


@dataclass(frozen=True)
class Filters:
    """Filters of a request; every value reaches SQL as a bound parameter."""

    bbox: tuple[float, float, float, float] | None = None
    """West, south, east, north in WGS84 degrees."""
    village: str | None = None
    """A village code: only features that meet the village."""
    as_of: date | None = None
    """Rows as they stood at the end of this day (layers with a time)."""
    start: datetime | None = None
    end: datetime | None = None
    """A closed time interval (the OGC `datetime` parameter); either end may be open."""
    grid_ids: frozenset[int] | None = None
    """The principal's scope: only rows of these grids (None: the whole town)."""


def end_of(day: date) -> datetime:
    """The last moment of a day in the town's time zone: what an `as_of` date stands for,
    as in `wangge coverage --as-of`."""
    return datetime.combine(day, time.max, tzinfo=TOWN_TIMEZONE)
