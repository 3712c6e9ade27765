"""The rota: three shifts of eight hours a day, people rotated over them so that nobody is
on two overlapping shifts or works more than the hours limit in any 24 hours. No database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]
DAY = timedelta(hours=24)
PATTERNS: dict[str, tuple[int, int]] = {"3x8": (3, 8)}
"""Each pattern: shifts a day and their hours, from 00:00 town time."""


def shifts_of(pattern: str, first_day: date, days: int, tz: ZoneInfo) -> list[Interval]:
    """The shifts of `days` days from `first_day`, in order, as moments in the town's zone."""
    count, hours = PATTERNS[pattern]
    out = []
    for d in range(days):
        midnight = datetime.combine(first_day + timedelta(days=d), time(0), tz)
        for k in range(count):
            out.append(
                (midnight + timedelta(hours=hours * k), midnight + timedelta(hours=hours * (k + 1)))
            )
    return out


def worst_window_hours(intervals: Sequence[Interval]) -> float:
    """The most hours these intervals hold in any window of 24 hours."""
    starts = [s for s, _ in intervals] + [e - DAY for _, e in intervals]
    worst = 0.0
    for w in starts:
        end = w + DAY
        held = sum(max(timedelta(0), min(e, end) - max(s, w)).total_seconds() for s, e in intervals)
        worst = max(worst, held / 3600)
    return worst


def fits(busy: Sequence[Interval], shift: Interval, limit_hours: int) -> bool:
    """Whether a person on `busy` can also take `shift`: no overlap, within the limit."""
    start, end = shift
    near = [(s, e) for s, e in busy if e > start - DAY and s < end + DAY]
    if any(s < end and start < e for s, e in near):
        return False
    return worst_window_hours([*near, shift]) <= limit_hours


@dataclass
class Uncovered(Exception):  # noqa: N818 - reads as the outcome
    """A shift the people given cannot staff: how many it needs and how many were free."""

    shift: Interval
    needed: int
    free: int


def assign(
    shifts: Sequence[Interval],
    people: Sequence[str],
    per_shift: int,
    busy: Mapping[str, Sequence[Interval]],
    limit_hours: int,
) -> list[tuple[str, ...]]:
    """The people of each shift: those free and within the limit, who rested longest first
    (ties in the order given). Raises `Uncovered` at the first shift that cannot be staffed."""
    held: dict[str, list[Interval]] = {p: list(busy.get(p, ())) for p in people}
    order = {p: i for i, p in enumerate(people)}
    out = []
    for shift in shifts:
        free = [p for p in people if fits(held[p], shift, limit_hours)]
        if len(free) < per_shift:
            raise Uncovered(shift, per_shift, len(free))
        last = {p: max((e for _, e in held[p] if e <= shift[0]), default=None) for p in free}
        free.sort(key=lambda p: (last[p] is not None, last[p] or shift[0], order[p]))
        chosen = tuple(sorted(free[:per_shift], key=order.__getitem__))
        for p in chosen:
            held[p].append(shift)
        out.append(chosen)
    return out
