"""`wangge daily run`: the daily clock, for cron or a systemd timer.

At a moment `at` (the town's time), for the town day it falls in, each step whose time has
come and that has not run for that day runs once, in this order:

- `reports` at `report_time` (16:00): the day's confirmed reports are frozen (`frozen_at`)
  and the rates at the deadline kept (`expected`, `reported`, `on_time`);
- `summary` at `summary_time` (18:00): the day's summary issued (frozen, as
  `geodata.records.daily_summary.summary` does when first asked after its time), and every
  unit's status and figures as of that moment kept (`daily_runs.detail`);
- `tasks` at `tasks_time` (19:00): the next day's task lists built and stored
  (`daily_task_lists`), which `wangge daily tasks` then serves as they were built.

A step that ran is recorded in `daily_runs` (day, step), so a second run changes nothing; a
run that comes late does every step that is due. The whole run holds a transaction-level
PostgreSQL advisory lock: a second process at the same time does nothing and says so.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text

from geodata.auth.rls import apply_scope
from geodata.records import daily_reports, daily_tasks
from geodata.records.town_settings import town_timezone

log = logging.getLogger(__name__)
STEPS = (("reports", "report_time"), ("summary", "summary_time"), ("tasks", "tasks_time"))
LOCK_KEY = 0x57616E67  # "Wang"
"""The advisory lock of the daily clock (one 32-bit key with the step's class below)."""
LOCK_CLASS = 16


def _claim(conn: Connection, day: date, step: str, at: datetime) -> bool:
    """Record the step as done for the day; False when it was done already."""
    return (
        conn.execute(
            text(
                "INSERT INTO daily_runs (day, step, done_at) VALUES (:d, :s, :at)"
                " ON CONFLICT DO NOTHING RETURNING step"
            ),
            {"d": day, "s": step, "at": at},
        ).first()
        is not None
    )


def _detail(conn: Connection, day: date, step: str, detail: dict[str, Any]) -> None:
    import json

    conn.execute(
        text("UPDATE daily_runs SET detail = CAST(:x AS jsonb) WHERE day = :d AND step = :s"),
        {"x": json.dumps(detail), "d": day, "s": step},
    )


def _do(conn: Connection, step: str, day: date, at: datetime) -> dict[str, Any]:
    if step == "reports":
        found = daily_reports.reports(conn, day, at)
        frozen = daily_reports.freeze(conn, day, at)
        return {k: found[k] for k in ("expected", "reported", "on_time")} | {"frozen": frozen}
    if step == "summary":
        from geodata.records import daily_summary

        issued = daily_summary.summary(conn, day, at)
        found = daily_reports.reports(conn, day, at)
        keep = ("unit", "kind", "status", "figures")
        return {k: found[k] for k in ("expected", "reported", "on_time")} | {
            "issued_at": issued.get("issued_at"),
            "units": [{k: u[k] for k in keep} for u in found["units"]],
        }
    built = daily_tasks.build(conn, day + timedelta(days=1), at)
    stored = daily_tasks.store(conn, built, at)
    return {"for": built["date"], "lists": stored, "unassigned": built["unassigned"]}


def run(conn: Connection, at: datetime | None = None) -> dict[str, Any]:
    """Do whatever is due at `at` (default now; without a zone, the town's time)."""
    from geodata.auth.access import Principal
    from geodata.vocab import Role

    zone = town_timezone(conn)
    moment = at or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    day = moment.astimezone(zone).date()
    answer: dict[str, Any] = {"at": moment.astimezone(zone).isoformat(), "day": day.isoformat()}
    locked = conn.execute(
        text("SELECT pg_try_advisory_xact_lock(:c, :k)"), {"c": LOCK_CLASS, "k": LOCK_KEY}
    ).scalar_one()
    if not locked:
        return answer | {"locked": False, "done": [], "already": [], "pending": []}
    apply_scope(conn, Principal(name="daily clock", role=Role.ADMIN))
    done: list[str] = []
    already: list[str] = []
    pending: list[str] = []
    for step, key in STEPS:
        if moment < daily_reports.clock_time(conn, day, key):
            pending.append(step)
            continue
        if not _claim(conn, day, step, moment):
            already.append(step)
            continue
        _detail(conn, day, step, _do(conn, step, day, moment))
        done.append(step)
    return answer | {"locked": True, "done": done, "already": already, "pending": pending}


def snapshot(conn: Connection, day: date, step: str) -> dict[str, Any] | None:
    """What a step kept for a day (`reports`, `summary`, `tasks`), or None before it ran."""
    row = conn.execute(
        text("SELECT done_at, detail FROM daily_runs WHERE day = :d AND step = :s"),
        {"d": day, "s": step},
    ).first()
    if row is None:
        return None
    zone = town_timezone(conn)
    return {"done_at": row.done_at.astimezone(zone).isoformat(), **dict(row.detail)}


def keep_time(engine: Engine, every_s: float, stop: threading.Event) -> None:
    """Run the clock now and then every `every_s` seconds until `stop` is set (what
    `wangge serve` does on a thread of its own), and bring the map's caches up to date
    (geodata.services.caches). The advisory locks keep each to one process of several; a
    failure is logged and the clock goes on."""
    from geodata.services import caches

    while True:
        try:
            with engine.begin() as conn:
                run(conn)
        except Exception:  # the clock must outlive one bad minute (a restart of the database)
            log.exception("daily clock: this run failed; trying again later")
        try:
            caches.refresh(engine)
        except Exception:  # as above: the next tick tries again
            log.exception("map caches: this refresh failed; trying again later")
        if stop.wait(every_s):
            return
