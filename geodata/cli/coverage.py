"""`wangge coverage`: checkpoint reach, screening, closure, leaks and staffing, rolled up."""

from __future__ import annotations

from typing import Any

import click

from geodata import params
from geodata.analysis.coverage.report import FIGURES, ITEM_KINDS
from geodata.analysis.coverage.rollup import LEVELS, Level
from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.services.coverage import coverage_for


def _person(person: dict[str, Any]) -> str:
    """`name phone` (the phone masked) when the name is there, else the status."""
    if "name" not in person:
        return str(person["status"])
    return " ".join(str(v) for v in (person["name"], person.get("phone")) if v)


def render_coverage(report: dict[str, Any]) -> str:
    """The report as lines a person reads."""
    radius = "each checkpoint's radius" if report["radius_m"] is None else f"{report['radius_m']} m"
    window = f"screened: in {report['window_h']:g} h"
    lines = [f"coverage as of {report['as_of']} (reach: {radius}; {window})"]
    areas = [("town", report["town"])]
    areas += [(f"village {v['code']} {v['name']}", v) for v in report["villages"]]
    areas += [(f"grid {g['code']}", g) for g in report["grids"]]
    for label, figures in areas:
        line = f"{label}: " + ", ".join(f"{k}={figures[k]}" for k in FIGURES)
        if "leader" in figures:
            line += f", leader={_person(figures['leader'])}"
        lines.append(line)
    patrol = report.get("patrol")
    if patrol is not None:
        for period in ("day", "night"):
            p = patrol[period]
            lines.append(
                f"patrol {period}: households {p['households_covered']}/{p['households']}"
                f" ({p['households_covered_pct']}%), road {p['road_km_covered']}"
                f"/{p['road_km']} km ({p['road_km_covered_pct']}%)"
            )
        lines.append(f"patrol zones without a team: {patrol['zones_without_team']}")
    post = report.get("command_post")
    if post is not None:
        states = ", ".join(f"{k}={v}" for k, v in post["enterprises"].items())
        points = post["publicity_points"]
        lines.append(f"enterprises: {states}")
        lines.append(
            f"publicity points: {points['total']}, not checked in 7 days:"
            f" {points['not_checked_7_days']}; passes valid: {post['passes_valid']}"
        )
    for kind, items in report.get("items", {}).items():
        lines.append(f"{kind}: {len(items)}")
        lines.extend("    " + ", ".join(f"{k}={v}" for k, v in item.items()) for item in items)
    return "\n".join(lines)


@click.command("coverage")
@click.option(
    "--radius-m",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="reach of every checkpoint (default: each checkpoint's own radius)",
)
@click.option("--network", is_flag=True, help="reach along the roads, not in a straight line")
@click.option(
    "--as-of",
    "as_of",
    metavar="ISO-DATE",
    help="as of this date (its end) or date-time; default: now",
)
@click.option(
    "--level",
    type=click.Choice(LEVELS),
    default="grid",
    show_default=True,
    help="the finest level listed",
)
@click.option("--list", "with_items", is_flag=True, help="list the offending items")
@click.option(
    "--items",
    "item_kinds",
    metavar="KIND,...",
    default=None,
    help="list only these kinds of item (implies --list): " + ", ".join(ITEM_KINDS),
)
@click.option(
    "--leaders",
    "with_leaders",
    is_flag=True,
    help="each grid's leader: the name and the phone masked if your role may see people",
)
@click.option(
    "--window-h",
    "window_h",
    type=click.FloatRange(min=0, min_open=True, max=60 * 24),
    default=None,
    help="screening window in hours for `screened` (default: the town's screening_window_days)",
)
@click.option(
    "--command-post",
    "with_command_post",
    is_flag=True,
    help="also enterprises per resumption state, publicity points not checked in 7 days and"
    " passes valid on the day",
)
@format_option
@pass_ctx
@reports_errors
def coverage_cmd(
    ctx: Context,
    radius_m: float | None,
    network: bool,
    as_of: str | None,
    level: Level,
    with_items: bool,
    item_kinds: str | None,
    with_leaders: bool,
    window_h: float | None,
    with_command_post: bool,
    fmt: str,
) -> None:
    """Coverage of the town, its villages and grids (only your grids if you have some)."""
    moment = params.filters({"as_of": as_of}).as_of
    kinds = (
        tuple(dict.fromkeys(k.strip() for k in item_kinds.split(",") if k.strip()))
        if item_kinds is not None
        else None
    )
    principal = ctx.acting(Action.VIEW_COVERAGE)
    with ctx.admin_engine.begin() as conn:
        report = coverage_for(
            conn,
            principal,
            as_of=moment,
            radius_m=radius_m,
            network=network,
            level=level,
            with_items=with_items or kinds is not None,
            item_kinds=kinds,
            with_leaders=with_leaders,
            window_h=window_h,
            with_command_post=with_command_post,
        )
    emit(report, fmt, render_coverage)
