"""A patrol zone's duty windows and its A/B rota. No database.

The town's duty day starts when the day patrol starts (`patrol_day_starts`, 06:00 by default)
and runs 24 hours: the day window until `patrol_night_starts` (18:00), the night window from
then to the next day's start. A moment belongs to the duty day whose 24 hours hold it, so at
02:00 the night under way is the one that began the evening before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from geodata.analysis.rota import Interval, fits

PERIODS = ("day", "night")


@dataclass(frozen=True)
class DutyClock:
    """When the day patrol and the night patrol start, on the town's wall clock."""

    day_starts: time
    night_starts: time
    tz: ZoneInfo

    def duty_day(self, at: datetime) -> date:
        """The duty day holding this moment."""
        local = at.astimezone(self.tz)
        start = datetime.combine(local.date(), self.day_starts, self.tz)
        return local.date() if local >= start else local.date() - timedelta(days=1)

    def window(self, day: date, period: str) -> Interval:
        """The period's window of a duty day, as moments."""
        if period not in PERIODS:
            raise ValueError(f"period: day or night, not {period!r}")
        start = datetime.combine(day, self.day_starts, self.tz)
        evening = datetime.combine(day, self.night_starts, self.tz)
        if evening <= start:
            evening += timedelta(days=1)
        if period == "day":
            return start, evening
        return evening, datetime.combine(day + timedelta(days=1), self.day_starts, self.tz)

    def windows(self, first_day: date, days: int, period: str) -> list[Interval]:
        return [self.window(first_day + timedelta(days=d), period) for d in range(days)]


@dataclass
class Unfit(Exception):  # noqa: N818 - reads as the outcome
    """A person of the rota who cannot take one of its shifts."""

    person: str
    shift: Interval


def ab_rota(
    shifts: Sequence[Interval],
    group_a: Sequence[str],
    group_b: Sequence[str],
    busy: Mapping[str, Sequence[Interval]],
    limit_hours: int,
) -> list[tuple[str, ...]]:
    """Group A on the first shift, group B on the next, and so on (A every time when there
    is no group B). Raises `Unfit` for the first person who would overlap another shift or
    work more than the limit in 24 hours."""
    held: dict[str, list[Interval]] = {p: list(busy.get(p, ())) for p in (*group_a, *group_b)}
    out = []
    for n, shift in enumerate(shifts):
        group = tuple(group_b) if group_b and n % 2 else tuple(group_a)
        for person in group:
            if not fits(held[person], shift, limit_hours):
                raise Unfit(person, shift)
            held[person].append(shift)
        out.append(group)
    return out
