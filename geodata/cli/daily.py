"""`wangge daily`: the command post's day: 16:00 unit reports, the 18:00 summary, 19:00 task
lists, and `run` for cron or a timer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from geodata.auth.access import Action, Principal
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records.refusal import RecordRefused
from geodata.vocab import Role


@click.group("daily")
def daily_group() -> None:
    """The daily rhythm: reports, summary, tasks, run."""


def read_day(value: str | None, today: date) -> date:
    """`2026-03-01`, or today (the town's) when not given."""
    if value is None:
        return today
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise RecordRefused(f"--date {value!r}: a date such as 2026-03-01") from None


def read_at(value: str | None, principal: Principal | None = None) -> datetime | None:
    """`--at DATETIME` (without a zone: the town's time, applied by the caller); only admins
    may act at another moment than now."""
    if value is None:
        return None
    if principal is not None and principal.role is not Role.ADMIN:
        raise RecordRefused("--at: only admins act at another moment than now")
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordRefused(f"--at {value!r}: a date and time such as 2026-03-01T16:00") from None


def read_corrections(values: tuple[str, ...]) -> dict[str, Any]:
    """`KEY=N` pairs."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, number = item.partition("=")
        if not sep:
            raise RecordRefused(f"--correct {item!r}: KEY=N, such as households_seen=12")
        out[key.strip()] = number.strip()
    return out


def _zoned(conn: Any, moment: datetime | None) -> datetime | None:
    from geodata.records.town_settings import town_timezone

    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=town_timezone(conn))


def _today(conn: Any, moment: datetime | None) -> date:
    from datetime import UTC

    from geodata.records.town_settings import town_timezone

    return (moment or datetime.now(UTC)).astimezone(town_timezone(conn)).date()


def _reports_text(report: dict[str, Any]) -> str:
    lines = [
        f"{report['date']}: {report['reported']} of {report['expected']} units reported,"
        f" {report['on_time']} on time",
    ]
    for u in report["units"]:
        figures = " ".join(f"{k}={v}" for k, v in u["figures"].items())
        lines.append(f"{u['kind']}\t{u['unit']}\t{u['status']}\t{figures}")
    return "\n".join(lines)


def _entry_text(entry: dict[str, Any]) -> str:
    figures = " ".join(f"{k}={v}" for k, v in entry["figures"].items())
    return f"{entry['kind']} {entry['unit']}: {entry['status']} ({figures})"


@daily_group.command("reports")
@click.option("--date", "day", metavar="DAY", help="default today (the town's)")
@click.option("--at", "at", metavar="DATETIME", help="as of this moment (default now)")
@format_option
@pass_ctx
@reports_errors
def reports_cmd(ctx: Context, day: str | None, at: str | None, fmt: str) -> None:
    """The day's expected units: reported, zero, late or missing, with their figures."""
    from geodata.services import daily as service

    principal = ctx.acting(Action.VIEW_HOUSEHOLDS)
    with ctx.admin_engine.begin() as conn:
        moment = _zoned(conn, read_at(at))
        found = service.reports(conn, principal, read_day(day, _today(conn, moment)), at=moment)
    emit(found, fmt, _reports_text)


@daily_group.command("report")
@click.argument("unit")
@click.option("--date", "day", metavar="DAY", help="default today (the town's)")
@click.option("--kind", type=click.Choice(["grid", "village", "combat_unit"]))
@click.option("--zero", is_flag=True, help="nothing to report (a report all the same)")
@click.option("--note")
@click.option("--correct", "correct", multiple=True, metavar="KEY=N")
@click.option("--at", "at", metavar="DATETIME", help="admins: confirm as at this moment")
@format_option
@pass_ctx
@reports_errors
def report_cmd(ctx: Context, unit: str, day: str | None, kind: str | None, zero: bool,
               note: str | None, correct: tuple[str, ...], at: str | None,
               fmt: str) -> None:  # fmt: skip
    """Confirm a unit's figures of the day (its responsible person, or an admin)."""
    from geodata.services import daily as service

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        moment = _zoned(conn, read_at(at, principal))
        made = service.confirm(conn, principal, unit, read_day(day, _today(conn, moment)),
                               kind=kind, zero=zero, note=note,
                               corrections=read_corrections(correct), at=moment)  # fmt: skip
    emit(made, fmt, _entry_text)


@daily_group.command("amend")
@click.argument("unit")
@click.option("--date", "day", metavar="DAY", help="default today (the town's)")
@click.option("--kind", type=click.Choice(["grid", "village", "combat_unit"]))
@click.option("--note")
@click.option("--correct", "correct", multiple=True, metavar="KEY=N")
@click.option("--take-in", is_flag=True, help="take in the visits that arrived since")
@click.option("--at", "at", metavar="DATETIME", help="admins: amend as at this moment")
@format_option
@pass_ctx
@reports_errors
def amend_cmd(ctx: Context, unit: str, day: str | None, kind: str | None, note: str | None,
              correct: tuple[str, ...], take_in: bool, at: str | None,
              fmt: str) -> None:  # fmt: skip
    """Amend a confirmed report (audited): corrections, a note, or late visits taken in."""
    from geodata.services import daily as service

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        moment = _zoned(conn, read_at(at, principal))
        made = service.amend(conn, principal, unit, read_day(day, _today(conn, moment)),
                             kind=kind, note=note, corrections=read_corrections(correct),
                             take_in=take_in, at=moment)  # fmt: skip
    emit(made, fmt, _entry_text)


def _tasks_text(found: dict[str, Any]) -> str:
    lines = [f"{found['date']} ({found['source']})"]
    for w in found["workers"]:
        lines.append(
            f"{w['worker']} ({', '.join(w['grids'])}): {len(w['stops'])} stops,"
            f" {w['minutes']} min, {w['walk_m']} m walking"
        )
        for s in w["stops"]:
            a = s["address"] or {}
            where = " ".join(str(a[k]) for k in ("village", "compound", "building", "unit",
                                                 "room") if a.get(k))  # fmt: skip
            checks = ", ".join(f"{c['window']}×{c['people']}" for c in s["checks"])
            what = ("screening " if s["screening"] else "") + (f"checks {checks}" if checks else "")
            lines.append(f"  {where or '-'}: {what.strip()}")
        for p in w["look_at"]:
            lines.append(f"  look at {p['kind']} {p['name'] or ''}".rstrip())
    return "\n".join(lines)


@daily_group.command("tasks")
@click.option("--date", "day", metavar="DAY", help="the day of the tasks (default tomorrow)")
@click.option("--worker", metavar="USER", help="one grid worker's list")
@click.option("--at", "at", metavar="DATETIME", help="admins: build as at this moment")
@format_option
@pass_ctx
@reports_errors
def tasks_cmd(ctx: Context, day: str | None, worker: str | None, at: str | None,
              fmt: str) -> None:  # fmt: skip
    """The grid workers' task lists for a day, balanced across the workers of each grid."""
    from datetime import timedelta

    from geodata.services import daily as service

    principal = ctx.acting(Action.VIEW_HOUSEHOLDS)
    with ctx.admin_engine.begin() as conn:
        moment = _zoned(conn, read_at(at, principal))
        tomorrow = _today(conn, moment) + timedelta(days=1)
        found = service.tasks(conn, principal, read_day(day, tomorrow), worker=worker,
                              at=moment)  # fmt: skip
    emit(found, fmt, _tasks_text)


def _summary_text(body: dict[str, Any]) -> str:
    state = f"issued {body['issued_at']}" if body.get("frozen") else "not issued yet"
    lines = [f"summary of {body['date']} ({state})"]
    lines.append("town: " + ", ".join(f"{k}={v}" for k, v in body["town"].items()))
    for v in body.get("villages", []):
        lines.append(f"{v['name']}: households_seen={v.get('households_seen')}")
    lines.append(f"not reported: {len(body.get('not_reported', []))}")
    return "\n".join(lines)


@daily_group.command("summary")
@click.option("--date", "day", metavar="DAY", help="default today (the town's)")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False, writable=True), default=None,
              help="also write the summary as a PDF")  # fmt: skip
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="also write the town and villages' table as CSV")  # fmt: skip
@format_option
@pass_ctx
@reports_errors
def summary_cmd(ctx: Context, day: str | None, pdf: str | None, csv_path: str | None,
                fmt: str) -> None:  # fmt: skip
    """The 18:00 summary: frozen once issued; planners' and analysts' figures published
    through the disclosure rules."""
    from pathlib import Path

    from geodata.records.daily_summary import as_csv
    from geodata.services.daily_summary import summary

    principal = ctx.acting(Action.VIEW_COVERAGE)
    with ctx.admin_engine.begin() as conn:
        body = summary(conn, principal, read_day(day, _today(conn, None)))
    if csv_path is not None:
        Path(csv_path).write_text(as_csv(body), encoding="utf-8")
    if pdf is not None:
        from geodata.exports.summary_pdf import summary_pdf

        Path(pdf).write_bytes(summary_pdf(body))
    emit(body, fmt, _summary_text)


@daily_group.command("run")
@click.option("--at", "at", metavar="DATETIME", help="as at this moment (default now)")
@format_option
@pass_ctx
@reports_errors
def run_cmd(ctx: Context, at: str | None, fmt: str) -> None:
    """Do what is due now (16:00 reports frozen, 18:00 snapshot, 19:00 task lists), once:
    for cron or a timer; a second run, or one while another holds the lock, does nothing."""
    from geodata.services import daily_clock

    principal = ctx.acting(Action.MANAGE_TOWN)
    with ctx.admin_engine.begin() as conn:
        found = daily_clock.run(conn, _zoned(conn, read_at(at, principal)))
    emit(found, fmt, lambda d: f"{d['at']}: done {', '.join(d['done']) or 'nothing'}"
         + ("" if d["locked"] else " (another run holds the lock)"))  # fmt: skip
