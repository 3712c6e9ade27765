"""`wangge isolation`: isolation beds (`geodata.services.isolation`): `assign` proposes who
goes to which bed (and writes it with `--apply`), `beds` counts the beds free per site now or
at a past moment. Sites and residents are named by source id, beds as room/label; times
without a zone are town time; `--format json` everywhere."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import town_timezone


@click.group("isolation")
def isolation_group() -> None:
    """Isolation beds: the assignment of people waiting to beds, the beds free per site."""


def _proposal_text(found: dict[str, Any]) -> str:
    lines = [
        f"{a['resident']}\t{a['site']}\t{a['bed']}\t{a['distance_m']:.0f} m"
        for a in found["assignments"]
    ]
    lines += [f"{r}\tno bed" for r in found["unplaced"]]
    applied = " (applied)" if found.get("applied") else ""
    lines.append(
        f"{found['status']}{applied}: {len(found['assignments'])} of {found['waiting']} placed,"
        f" {found['total_distance_m']:.0f} m in all"
    )
    return "\n".join(lines)


@isolation_group.command("assign")
@click.option("--keep-families", is_flag=True, help="a household's members to one site or none")
@click.option("--use-reserve", is_flag=True, help="the reserve rooms' beds may be taken too")
@click.option("--apply", "apply_", is_flag=True, help="write the assignments (from now)")
@format_option
@pass_ctx
@reports_errors
def assign_cmd(ctx: Context, keep_families: bool, use_reserve: bool, apply_: bool,
               fmt: str) -> None:  # fmt: skip
    """The people waiting for concentrated isolation to the free beds: the most people
    placed, then the least travel along the roads (admins; commanders for their villages)."""
    from geodata.services import isolation as service

    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        if apply_:
            found = service.apply(conn, principal, keep_families=keep_families,
                                  use_reserve=use_reserve)  # fmt: skip
        else:
            found = service.proposal(conn, principal, keep_families=keep_families,
                                     use_reserve=use_reserve)  # fmt: skip
    emit(found, fmt, _proposal_text)


def _moment(ctx: Context, value: str | None) -> datetime | None:
    if value is None:
        return None
    raw = value.strip()
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise RecordRefused("--at: not a date and time (2026-03-01T08:00)") from None
    if moment.tzinfo is None:
        with ctx.admin_engine.connect() as conn:
            moment = moment.replace(tzinfo=town_timezone(conn))
    if len(raw) == len("2026-03-01"):  # a day: its end
        moment += timedelta(days=1, microseconds=-1)
    return moment


@isolation_group.command("beds")
@click.option(
    "--at", "at", metavar="DATETIME", help="a past moment; a day is its end (default now)"
)
@format_option
@pass_ctx
@reports_errors
def beds_cmd(ctx: Context, at: str | None, fmt: str) -> None:
    """Every site's beds: taken, free, and free in reserve rooms, now or at a past moment."""
    from geodata.services import isolation as service

    principal = ctx.acting(Action.VIEW_MAP)
    moment = _moment(ctx, at)
    with ctx.admin_engine.begin() as conn:
        found = service.beds(conn, principal, at=moment)

    def render(d: dict[str, Any]) -> str:
        lines = ["site\tbeds\treserve_beds\ttaken\tfree\tfree_reserve"]
        lines += [
            f"{s['site']}\t{s['beds']}\t{s['reserve_beds']}\t{s['taken']}\t{s['free']}"
            f"\t{s['free_reserve']}"
            for s in d["sites"]
        ]
        return "\n".join(lines)

    emit(found, fmt, render)
