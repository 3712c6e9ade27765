"""Disinfection rules on times alone: when a place falls due, and how long it was overdue.

A place is overdue at moment t when t is later than its last round at or before t plus
24 h ÷ its rounds a day plus the town's grace. Before its first round the place's own
creation stands in for the last round (a new place is due one interval after it appears;
a round logged before the place was recorded counts from its own time).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime, timedelta

DAY = timedelta(hours=24)


def allowed_gap(rounds_per_day: int, grace_minutes: int) -> timedelta:
    """The longest time between rounds before the place is overdue."""
    return DAY / rounds_per_day + timedelta(minutes=grace_minutes)


def overdue_at(
    moment: datetime, anchor: datetime, rounds: Sequence[datetime], gap: timedelta
) -> datetime | None:
    """The due time passed at `moment` (None: not overdue; rounds sorted)."""
    first = min(anchor, rounds[0]) if rounds else anchor
    if moment < first:
        return None
    before = bisect_right(rounds, moment)
    due = (rounds[before - 1] if before else first) + gap
    return due if moment > due else None


def overdue_seconds(
    start: datetime, end: datetime, anchor: datetime, rounds: Sequence[datetime], gap: timedelta
) -> float:
    """Seconds of [start, end) during which the place was overdue (rounds sorted)."""
    marks = [min(anchor, rounds[0]) if rounds else anchor, *rounds]
    total = 0.0
    for i, last in enumerate(marks):
        following = marks[i + 1] if i + 1 < len(marks) else None
        span_start = max(last + gap, start)
        span_end = end if following is None else min(following, end)
        if span_end > span_start:
            total += (span_end - span_start).total_seconds()
    return total
