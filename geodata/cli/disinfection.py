"""`wangge disinfection places add|list`, `round`, `overdue`, `compliance`: public places'
disinfection rounds through `geodata.services.disinfection` (places by admins and
commanders, rounds also by the grid workers of the place's village; audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records.disinfection import KINDS


def _moment(value: str | None) -> datetime | None:
    from geodata.records.as_of import parse_as_of

    return None if value is None else parse_as_of(value)


def render_overdue(data: dict[str, Any]) -> str:
    if not data["overdue"]:
        return f"no place overdue at {data['at']}"
    return "\n".join(
        f"{p['place']}: due {p['due_at']} (last round {p['last_round_at'] or 'never'})"
        for p in data["overdue"]
    )


def render_compliance(data: dict[str, Any]) -> str:
    return (
        "\n".join(
            f"{p['place']} {p['day']}: {p['rounds']}/{p['required']} rounds,"
            f" {p['overdue_minutes']} min overdue, {'complied' if p['compliant'] else 'NOT'}"
            for p in data["places"]
        )
        or "no places"
    )


@click.group("disinfection")
def disinfection_group() -> None:
    """Disinfection of public places (markets, stations, toilets, checkpoints)."""


@disinfection_group.group("places")
def places_group() -> None:
    """Places and the rounds a day each needs."""


@places_group.command("add")
@click.argument("source_id")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--rounds", "rounds_per_day", type=int, required=True, help="rounds a day")
@click.option("--village", metavar="CODE", default=None)
@click.option("--checkpoint", metavar="SOURCE_ID", default=None, help="the place is this one")
@click.option("--lon", type=float, default=None)
@click.option("--lat", type=float, default=None)
@format_option
@pass_ctx
@reports_errors
def place_add(
    ctx: Context,
    source_id: str,
    name: str,
    kind: str,
    rounds_per_day: int,
    village: str | None,
    checkpoint: str | None,
    lon: float | None,
    lat: float | None,
    fmt: str,
) -> None:
    """A place SOURCE_ID to disinfect ROUNDS times a day."""
    from geodata.services.disinfection import add_place

    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        new_id = add_place(conn, principal, source_id, name=name, kind=kind,
                           rounds_per_day=rounds_per_day, village=village,
                           checkpoint=checkpoint, lon=lon, lat=lat)  # fmt: skip
    emit({"id": new_id, "place": source_id}, fmt, lambda d: f"place {d['place']}")


@places_group.command("list")
@format_option
@pass_ctx
@reports_errors
def place_list(ctx: Context, fmt: str) -> None:
    from geodata.services.disinfection import list_places

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        found = list_places(conn, principal)
    emit(found, fmt, lambda rows: "\n".join(
        f"{r['source_id']} {r['kind']} {r['rounds_per_day']}/day: {r['name']}" for r in rows
    ) or "no places")  # fmt: skip


@disinfection_group.command("round")
@click.argument("place")
@click.option("--agent", required=True, help="the disinfectant used")
@click.option("--by", "staff", metavar="STAFF_SOURCE_ID", default=None, help="who did it")
@click.option("--at", "at", metavar="DATETIME", default=None, help="when (default now)")
@click.option("--id", "source_id", metavar="SOURCE_ID", default=None)
@format_option
@pass_ctx
@reports_errors
def round_cmd(
    ctx: Context,
    place: str,
    agent: str,
    staff: str | None,
    at: str | None,
    source_id: str | None,
    fmt: str,
) -> None:
    """Log a round at PLACE; refused when dated in the future."""
    from geodata.services.disinfection import log_round

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        new_id = log_round(conn, principal, place, at=_moment(at), staff=staff, agent=agent,
                           source_id=source_id)  # fmt: skip
    emit({"id": new_id, "place": place}, fmt, lambda d: f"round #{d['id']} at {d['place']}")


@disinfection_group.command("overdue")
@click.option("--at", "at", metavar="DATETIME", default=None, help="the moment (default now)")
@format_option
@pass_ctx
@reports_errors
def overdue_cmd(ctx: Context, at: str | None, fmt: str) -> None:
    """Places whose last round is older than 24 h ÷ their rounds a day plus the grace."""
    from geodata.services.disinfection import overdue

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        emit(overdue(conn, principal, _moment(at)), fmt, render_overdue)


@disinfection_group.command("compliance")
@click.option("--day", required=True, metavar="DATE", help="a town-time day")
@format_option
@pass_ctx
@reports_errors
def compliance_cmd(ctx: Context, day: str, fmt: str) -> None:
    """Each place on DAY: rounds done and required, minutes overdue, complied or not."""
    from geodata.services.disinfection import compliance

    principal = ctx.acting(Action.VIEW_MAP)
    from geodata.records.as_of import parse_as_of

    moment = parse_as_of(day)
    with ctx.admin_engine.begin() as conn:
        emit(compliance(conn, principal, moment), fmt, render_compliance)
