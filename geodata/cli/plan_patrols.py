"""`wangge plan patrols` and `wangge plan routes`: contiguous patrol zones balanced by hours,
and each zone's shortest route along every street, cut into loops from a station."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection

from geodata.analysis.patrols.pace import DEFAULT_SPEED_KMH, DEFAULT_STOP_MIN, Pace
from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records import town_settings
from geodata.services.patrol_planning import (
    PatrolRefused,
    apply_patrol_zones,
    patrol_zone_plan,
    public,
)
from geodata.services.patrol_routes import (
    DEFAULT_LOOP_HOURS,
    apply_patrol_routes,
    patrol_route_plan,
    public_routes,
    write_gpx,
)


def _pace(conn: Connection, speed_kmh: float | None, stop_min: float | None) -> Pace:
    """The options given, else the town settings walking_speed_kmh and patrol_stop_minutes."""
    if speed_kmh is None:
        speed_kmh = float(town_settings.setting(conn, "walking_speed_kmh"))
    if stop_min is None:
        stop_min = float(town_settings.setting(conn, "patrol_stop_minutes"))
    try:
        return Pace(speed_kmh=speed_kmh, stop_min=stop_min)
    except ValueError as exc:
        raise PatrolRefused(str(exc)) from None


pace_options = [
    click.option(
        "--speed-kmh",
        type=float,
        default=None,
        help=f"walking speed (default: the town setting walking_speed_kmh, {DEFAULT_SPEED_KMH})",
    ),
    click.option(
        "--stop-min",
        type=float,
        default=None,
        help="minutes stopped at each checkpoint or open entrance (default: the town setting"
        f" patrol_stop_minutes, {DEFAULT_STOP_MIN})",
    ),
]


def render_zones(plan: dict[str, Any]) -> str:
    lines = [
        f"{len(plan['zones'])} {plan['period']} zones by {plan['by']}: hours max/min"
        f" {plan['hours_max_min']}, {plan['solve_s']} s"
    ]
    lines += [
        f"  {z['id']}: {z['hours']} h, {z['households']} households, {z['road_m']:.0f} m road,"
        f" {z['units']} blocks, {z['pieces']} piece(s), Polsby-Popper {z['polsby_popper']}"
        for z in plan["zones"]
    ]
    if "applied" in plan:
        lines.append(f"applied: {len(plan['applied'])} zones written")
    return "\n".join(lines)


@click.command("patrols")
@click.option("--zones", "k", type=int, required=True, help="number of zones (K)")
@click.option("--period", type=click.Choice(["day", "night"]), required=True)
@click.option("--village", type=str, default=None, help="one village (its code)")
@click.option(
    "--by",
    type=click.Choice(["hours", "households", "road_m"]),
    default="hours",
    show_default=True,
    help="what the zones balance",
)
@click.option("--keep-existing", is_flag=True, help="keep the period's applied zones fixed")
@click.option("--apply", "do_apply", is_flag=True, help="write the zones (audited)")
@pace_options[0]
@pace_options[1]
@format_option
@pass_ctx
@reports_errors
def plan_patrols_cmd(
    ctx: Context,
    k: int,
    period: str,
    village: str | None,
    by: str,
    keep_existing: bool,
    do_apply: bool,
    speed_kmh: float | None,
    stop_min: float | None,
    fmt: str,
) -> None:
    """K contiguous patrol zones for a period, balanced by estimated patrol hours."""
    principal = ctx.acting(Action.PLAN)
    with ctx.admin_engine.begin() as conn:
        pace = _pace(conn, speed_kmh, stop_min)
        plan = patrol_zone_plan(
            conn,
            principal,
            zones=k,
            period=period,
            village=village,
            by=by,  # type: ignore[arg-type]  # click.Choice holds the three values
            keep_existing=keep_existing,
            pace=pace,
        )
        if do_apply:
            plan["applied"] = apply_patrol_zones(conn, principal, plan, keep_existing=keep_existing)
    emit(public(plan), fmt, render_zones)


def _lonlat(raw: str | None) -> tuple[float, float] | None:
    if raw is None:
        return None
    try:
        lon, lat = (float(v) for v in raw.split(","))
    except ValueError:
        raise PatrolRefused(f"--start: LON,LAT, not {raw!r}") from None
    return lon, lat


def render_routes(plan: dict[str, Any]) -> str:
    lines = []
    for r in plan["routes"]:
        lines.append(
            f"{r['zone']} ({r['period']}) from {r['station']}: {r['route_m']:.0f} m,"
            f" streets {r['street_m']:.0f} m, deadhead {r['deadhead_m']:.0f} m, {r['hours']} h,"
            f" {r['segments_covered']}/{r['segments']} segments"
        )
        lines += [
            f"  loop {lp['loop']}: {lp['route_m']:.0f} m, {lp['hours']} h" for lp in r["loops"]
        ]
    return "\n".join(lines)


@click.command("routes")
@click.option("--zone", type=str, default=None, help="one zone (its source id)")
@click.option("--station", type=str, default=None, help="an active checkpoint's source id")
@click.option("--start", type=str, default=None, metavar="LON,LAT", help="a point to start at")
@click.option(
    "--loop-hours",
    type=float,
    default=DEFAULT_LOOP_HOURS,
    show_default=True,
    help="longest loop from the station",
)
@click.option(
    "--gpx",
    "gpx_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="write one GPX file per zone here",
)
@click.option("--apply", "do_apply", is_flag=True, help="store the routes and their loops")
@pace_options[0]
@pace_options[1]
@format_option
@pass_ctx
@reports_errors
def plan_routes_cmd(
    ctx: Context,
    zone: str | None,
    station: str | None,
    start: str | None,
    loop_hours: float,
    gpx_dir: Path | None,
    do_apply: bool,
    speed_kmh: float | None,
    stop_min: float | None,
    fmt: str,
) -> None:
    """Each zone's shortest closed walk along all its streets, from a station, in loops."""
    principal = ctx.acting(Action.PLAN)
    with ctx.admin_engine.begin() as conn:
        pace = _pace(conn, speed_kmh, stop_min)
        plan = patrol_route_plan(
            conn,
            principal,
            zone=zone,
            station=station,
            start=_lonlat(start),
            loop_hours=loop_hours,
            pace=pace,
        )
        if do_apply:
            plan["applied"] = apply_patrol_routes(conn, principal, plan)
    if gpx_dir is not None:
        write_gpx(plan, gpx_dir)
    emit(public_routes(plan), fmt, render_routes)
