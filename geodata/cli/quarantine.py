"""`wangge quarantine`: quarantines from start to release (`geodata.services.quarantines`):
add, list, due, missed, check, release, extend, alerts, close-alert. Residents are named by
source id; times without a zone are town time; `--format json` everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records import quarantines as records
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import town_timezone


def _moment(ctx: Context, value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RecordRefused(f"{field}: not a date and time (2026-03-01T08:00)") from None
    if moment.tzinfo is None:
        with ctx.admin_engine.connect() as conn:
            moment = moment.replace(tzinfo=town_timezone(conn))
    return moment


def _table(rows: list[dict[str, Any]]) -> str:
    columns = ["id", "resident", "grid", "type", "start", "end", "status"]
    lines = ["\t".join(columns)]
    lines += ["\t".join("" if r.get(c) is None else str(r[c]) for c in columns) for r in rows]
    return "\n".join(lines)


@click.group("quarantine")
def quarantine_group() -> None:
    """Quarantines: add, list, checks due, record a check, release, extend."""


@quarantine_group.command("add")
@click.option("--resident", required=True, metavar="SOURCE_ID")
@click.option("--type", "type_", required=True, type=click.Choice(records.TYPES))
@click.option("--reason", required=True, type=click.Choice(records.REASONS))
@click.option("--origin", help="where a returnee came from")
@click.option("--case", "case_ref", help="the case a close contact links to")
@click.option("--start", required=True, metavar="DATETIME")
@click.option("--days", type=int, help="default: the town setting quarantine_days_TYPE")
@format_option
@pass_ctx
@reports_errors
def add_cmd(ctx: Context, resident: str, type_: str, reason: str, origin: str | None,
            case_ref: str | None, start: str, days: int | None, fmt: str) -> None:  # fmt: skip
    """Register a person's quarantine (grid workers in their grids, admins)."""
    from geodata.services import quarantines as service

    principal = ctx.acting(Action.EDIT_HOUSEHOLDS)
    begins = _moment(ctx, start, "--start")
    assert begins is not None
    new = records.NewQuarantine(resident=resident, type=type_, reason=reason, start=begins,
                                origin=origin, case_ref=case_ref, days=days)  # fmt: skip
    with ctx.admin_engine.begin() as conn:
        made = service.add(conn, principal, new)
    emit(made, fmt, lambda m: f"quarantine {m['id']}: {m['resident']} {m['start']} - {m['end']}")


@quarantine_group.command("list")
@click.option("--status", type=click.Choice(records.STATUSES))
@format_option
@pass_ctx
@reports_errors
def list_cmd(ctx: Context, status: str | None, fmt: str) -> None:
    """Quarantines of the caller's grids (personal data: audited)."""
    from geodata.services import quarantines as service

    principal = ctx.acting(Action.VIEW_HOUSEHOLDS)
    with ctx.admin_engine.begin() as conn:
        rows = service.list_quarantines(conn, principal, status=status)
    emit({"quarantines": rows}, fmt, lambda d: _table(d["quarantines"]))


@quarantine_group.command("due")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="a town day; today")
@format_option
@pass_ctx
@reports_errors
def due_cmd(ctx: Context, day: datetime | None, fmt: str) -> None:
    """The checks due on a day, done or missed, and the missed ones per grid."""
    from geodata.services import quarantines as service

    principal = ctx.acting(Action.VIEW_HOUSEHOLDS)
    with ctx.admin_engine.begin() as conn:
        chosen: date = day.date() if day else datetime.now(town_timezone(conn)).date()
        report = service.due(conn, principal, chosen)

    def render(r: dict[str, Any]) -> str:
        lines = [f"{c['window']} {c['resident']} ({c['grid']}): "
                 + ("done" if c["done"] else "MISSED" if c["missed"] else "due")
                 for c in r["checks"]]  # fmt: skip
        lines += [f"missed in grid {g}: {n}" for g, n in sorted(r["missed_by_grid"].items())]
        return "\n".join(lines) or "nothing due"

    emit(report, fmt, render)


@quarantine_group.command("check")
@click.argument("quarantine_id", type=int)
@click.option("--temperature-c", "temperature_c", required=True, metavar="T")
@click.option("--at", "at", metavar="DATETIME", help="default now")
@format_option
@pass_ctx
@reports_errors
def check_cmd(ctx: Context, quarantine_id: int, temperature_c: str, at: str | None,
              fmt: str) -> None:  # fmt: skip
    """Record a temperature check (°C)."""
    from geodata.services import quarantines as service

    principal = ctx.acting(Action.EDIT_HOUSEHOLDS)
    moment = _moment(ctx, at, "--at") or datetime.now(UTC)
    with ctx.admin_engine.begin() as conn:
        done, _ = service.check(conn, principal, quarantine_id, temperature_c=temperature_c,
                                at=moment)  # fmt: skip
    emit(done, fmt, lambda d: f"quarantine {quarantine_id}: {d['temperature_c']} °C"
         + (" FEVER" if d["fever"] else ""))  # fmt: skip


@quarantine_group.command("release")
@click.argument("quarantine_id", type=int)
@click.option("--reason", required=True)
@pass_ctx
@reports_errors
def release_cmd(ctx: Context, quarantine_id: int, reason: str) -> None:
    """Release a quarantine early (commanders for their villages, admins)."""
    from geodata.services import quarantines as service

    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        done = service.release(conn, principal, quarantine_id, reason=reason)
    click.echo(f"quarantine {quarantine_id}: " + ("released" if done else "released already"))


@quarantine_group.command("extend")
@click.argument("quarantine_id", type=int)
@click.option("--days", required=True, type=int)
@click.option("--reason", required=True)
@pass_ctx
@reports_errors
def extend_cmd(ctx: Context, quarantine_id: int, days: int, reason: str) -> None:
    """Move a quarantine's end later (commanders for their villages, admins)."""
    from geodata.services import quarantines as service

    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        ends = service.extend(conn, principal, quarantine_id, days=days, reason=reason)
    click.echo(f"quarantine {quarantine_id}: ends {ends.isoformat()}")


@quarantine_group.command("alerts")
@click.option("--all", "everything", is_flag=True, help="closed ones too")
@format_option
@pass_ctx
@reports_errors
def alerts_cmd(ctx: Context, everything: bool, fmt: str) -> None:
    """Fever alerts of the caller's grids: open until what was done is recorded."""
    from geodata.services import quarantines as service

    principal = ctx.acting(Action.VIEW_HOUSEHOLDS)
    with ctx.admin_engine.begin() as conn:
        rows = service.alerts(conn, principal, open_only=not everything)

    def render(d: dict[str, Any]) -> str:
        return (
            "\n".join(
                f"{a['id']}\t{a['resident']}\t{a['grid']}\t{a['temperature_c']}\t{a['opened_at']}"
                + ("" if a["closed_at"] is None else f"\tclosed: {a['action']}")
                for a in d["alerts"]
            )
            or "no open fever alert"
        )

    emit({"alerts": rows}, fmt, render)


@quarantine_group.command("close-alert")
@click.argument("alert_id", type=int)
@click.option("--action", required=True, help="what was done")
@pass_ctx
@reports_errors
def close_alert_cmd(ctx: Context, alert_id: int, action: str) -> None:
    """Record what was done about a fever alert, which closes it."""
    from geodata.services import quarantines as service

    principal = ctx.acting(Action.EDIT_HOUSEHOLDS)
    with ctx.admin_engine.begin() as conn:
        done = service.close_alert(conn, principal, alert_id, action=action)
    click.echo(f"fever alert {alert_id}: " + ("closed" if done else "closed already"))


@quarantine_group.command("missed")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="a town day; today")
@format_option
@pass_ctx
@reports_errors
def missed_cmd(ctx: Context, day: datetime | None, fmt: str) -> None:
    """Checks due and missed per grid: exact for those who see households, else published
    through the disclosure rules."""
    from geodata.services import quarantines as service

    principal = ctx.acting(Action.VIEW_COVERAGE)
    with ctx.admin_engine.begin() as conn:
        chosen: date = day.date() if day else datetime.now(town_timezone(conn)).date()
        report = service.missed_figures(conn, principal, chosen)

    def render(r: dict[str, Any]) -> str:
        return "\n".join(f"{g['grid']}\t{g['checks_due']}\t{g['missed']}" for g in r["grids"])

    emit(report, fmt, render)
