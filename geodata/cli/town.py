"""`wangge town show|set`: the town's settings (time zone, hours limit, shift pattern...)."""

from __future__ import annotations

from typing import Any

import click

from geodata.auth import audit
from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records import town_settings


@click.group("town")
def town_group() -> None:
    """The town's settings: `show` them, `set KEY VALUE` (admins)."""


@town_group.command("show")
@format_option
@pass_ctx
@reports_errors
def town_show(ctx: Context, fmt: str) -> None:
    """Every setting with its value, and whether that is the default."""
    ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.connect() as conn:
        rows = town_settings.all_settings(conn)
    emit(rows, fmt, _render)


def _render(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        mark = " (default)" if row["default"] else ""
        lines.append(f"{row['key']:<30} {row['value']!s}{mark}   # {row['about']}")
    return "\n".join(lines)


@town_group.command("set")
@click.argument("key")
@click.argument("value")
@pass_ctx
@reports_errors
def town_set(ctx: Context, key: str, value: str) -> None:
    """Set one setting (admins only); audited with its old and new value."""
    principal = ctx.acting(Action.MANAGE_TOWN)
    with ctx.admin_engine.begin() as conn:
        old, new = town_settings.set_setting(conn, key, value, actor=principal.name)
        audit.record(
            conn,
            actor=principal.name,
            action="town_setting_set",
            object_type="town_setting",
            detail={"key": key, "old": old, "new": new},
        )
    click.echo(f"{key}: {old} -> {new}")
