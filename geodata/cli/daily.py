"""`wangge daily`: the command post's day: 16:00 unit reports, the 18:00 summary, 19:00 task
lists, and `run` for cron or a timer."""

from __future__ import annotations

import click


@click.group("daily")
def daily_group() -> None:
    """The daily rhythm: reports, summary, tasks, run."""
