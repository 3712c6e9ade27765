"""`wangge campaigns add|list|progress`: screening campaigns (排查) through
`geodata.services.campaigns`. Villages and grids are named by code; times without a zone are
the town's time; refusals exit 1 naming the field; `--format json` everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records import campaigns as records
from geodata.records.refusal import RecordRefused

PROGRESS_COLUMNS = ("grid", "households", "seen", "people_registered", "people_counted")


def _moment(value: str | None, who: str, field: str) -> datetime | None:
    """A time as typed (naive: the town's time, which the records apply)."""
    if value is None:
        return None
    try:
        return records.read_moment(value)
    except ValueError as exc:
        raise RecordRefused(f"{who}: {field}: {exc}") from None


def _codes(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value.split(","))


def _line(c: dict[str, Any]) -> str:
    return (
        f"campaign {c['id']}: {c['name']} {c['start']} - {c['deadline']} ({len(c['grids'])} grids)"
    )


def _progress_text(report: dict[str, Any]) -> str:
    c = report["campaign"]
    lines = [
        f"campaign {c['id']}: {c['name']} as of {c['as_of']}"
        f" ({c['time_passed']:.0%} of the time passed; {c['figures']} figures)",
        "\t".join((*PROGRESS_COLUMNS, "behind_pace")),
    ]
    for g in report["grids"]:
        cells = ["-" if g[k] is None else str(g[k]) for k in PROGRESS_COLUMNS]
        pace = {True: "BEHIND", False: "on pace", None: "-"}[g["behind_pace"]]
        lines.append("\t".join((*cells, pace)))
    return "\n".join(lines)


@click.group("campaigns")
def campaigns_group() -> None:
    """Screening campaigns: add, list, progress per grid."""


@campaigns_group.command("add")
@click.option("--name", required=True)
@click.option("--villages", metavar="CODES", help="village codes, separated by commas")
@click.option("--grids", metavar="CODES", help="grid codes, separated by commas")
@click.option("--start", required=True, metavar="DATETIME")
@click.option("--deadline", required=True, metavar="DATETIME")
@format_option
@pass_ctx
@reports_errors
def add_cmd(ctx: Context, name: str, villages: str | None, grids: str | None, start: str,
            deadline: str, fmt: str) -> None:  # fmt: skip
    """A campaign over villages or grids (admins; commanders for their villages)."""
    from geodata.services import campaigns as service

    principal = ctx.acting(Action.OPERATE)
    who = f"campaign {name.strip()!r}"
    begins, ends = _moment(start, who, "start"), _moment(deadline, who, "deadline")
    assert begins is not None
    assert ends is not None
    new = records.NewCampaign(name=name, start=begins, deadline=ends,
                              villages=_codes(villages), grids=_codes(grids))  # fmt: skip
    with ctx.admin_engine.begin() as conn:
        made = service.add(conn, principal, new)
    emit(made, fmt, _line)


@campaigns_group.command("list")
@format_option
@pass_ctx
@reports_errors
def list_cmd(ctx: Context, fmt: str) -> None:
    """The campaigns of the caller's grids, the nearest deadline first."""
    from geodata.services import campaigns as service

    principal = ctx.acting(Action.VIEW_COVERAGE)
    with ctx.admin_engine.begin() as conn:
        found = service.list_campaigns(conn, principal)
    emit({"campaigns": found}, fmt, lambda d: "\n".join(map(_line, d["campaigns"])) or "none")


@campaigns_group.command("progress")
@click.argument("campaign_id", type=int)
@click.option("--at", "at", metavar="DATETIME", help="default now")
@format_option
@pass_ctx
@reports_errors
def progress_cmd(ctx: Context, campaign_id: int, at: str | None, fmt: str) -> None:
    """Progress per grid: households seen, people counted, behind pace."""
    from geodata.services import campaigns as service

    principal = ctx.acting(Action.VIEW_COVERAGE)
    moment = _moment(at, f"campaign {campaign_id}", "at")
    with ctx.admin_engine.begin() as conn:
        report = service.progress(conn, principal, campaign_id, at=moment)
    emit(report, fmt, _progress_text)
