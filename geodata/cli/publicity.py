"""`wangge publicity add|update|list|check`: banners, signs, notice boards and loudspeaker
routes through `geodata.services.publicity` (audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records.publicity import KINDS


def _moment(value: str | None) -> datetime | None:
    from geodata.records.as_of import parse_as_of

    return None if value is None else parse_as_of(value)


def render_points(data: dict[str, Any]) -> str:
    return (
        "\n".join(
            f"{p['point']} {p['kind']} {p['village']}:"
            f" last checked {p['last_checked_at'] or 'never'}"
            + (" (NOT CHECKED IN 7 DAYS)" if p["unchecked"] else "")
            for p in data["points"]
        )
        or "no publicity points"
    )


@click.group("publicity")
def publicity_group() -> None:
    """Publicity points: banners, signs, notice boards and loudspeaker routes."""


def _point_options(func: Any) -> Any:
    for option in reversed(
        [
            click.argument("source_id"),
            click.option("--kind", type=click.Choice(KINDS), required=True),
            click.option("--content", required=True, help="what it says"),
            click.option("--put-up-on", required=True, metavar="DAY"),
            click.option(
                "--village", metavar="CODE", default=None, help="default: the village containing it"
            ),
            click.option("--lon", type=float, default=None),
            click.option("--lat", type=float, default=None),
            click.option("--wkt", default=None, help="a Point, or a LineString for a route"),
            format_option,
        ]
    ):
        func = option(func)
    return func


def _save(ctx: Context, source_id: str, kw: dict[str, Any], *, new: bool) -> None:
    from geodata.records.placed import Where
    from geodata.records.publicity import PointFields
    from geodata.records.risk_areas import parse_day
    from geodata.services.publicity import save_point

    record = f"publicity point {source_id!r}"
    fields = PointFields(
        kind=kw["kind"], content=kw["content"],
        put_up_on=parse_day(record, "put_up_on", kw["put_up_on"]),
        where=Where(lon=kw["lon"], lat=kw["lat"], wkt=kw["wkt"], village=kw["village"]),
    )  # fmt: skip
    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        outcome, new_id = save_point(conn, principal, source_id, fields, new=new)
    emit({"id": new_id, "point": source_id, "outcome": outcome}, kw["fmt"],
         lambda d: f"publicity point {d['point']}: {d['outcome']}")  # fmt: skip


@publicity_group.command("add")
@_point_options
@pass_ctx
@reports_errors
def point_add(ctx: Context, /, source_id: str, **kw: Any) -> None:
    """A new publicity point SOURCE_ID."""
    _save(ctx, source_id, kw, new=True)


@publicity_group.command("update")
@_point_options
@pass_ctx
@reports_errors
def point_update(ctx: Context, /, source_id: str, **kw: Any) -> None:
    """Change publicity point SOURCE_ID (every field given again); its last check is kept."""
    _save(ctx, source_id, kw, new=False)


@publicity_group.command("check")
@click.argument("source_id")
@click.option("--at", "at", metavar="DATETIME", default=None, help="when (default now)")
@format_option
@pass_ctx
@reports_errors
def point_check(ctx: Context, source_id: str, at: str | None, fmt: str) -> None:
    """Record a check of SOURCE_ID (it is there and readable)."""
    from geodata.services.publicity import check

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        check(conn, principal, source_id, at=_moment(at))
    emit({"checked": source_id}, fmt, lambda d: f"publicity point {d['checked']} checked")


@publicity_group.command("list")
@click.option("--at", "at", metavar="DATETIME", default=None, help="the moment (default now)")
@click.option("--unchecked", is_flag=True, help="only those not checked in 7 days")
@format_option
@pass_ctx
@reports_errors
def point_list(ctx: Context, at: str | None, unchecked: bool, fmt: str) -> None:
    """Publicity points, each flagged when not checked in 7 days."""
    from geodata.services.publicity import list_points

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        emit(list_points(conn, principal, at=_moment(at), unchecked_only=unchecked), fmt,
             render_points)  # fmt: skip
