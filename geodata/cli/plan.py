"""`wangge plan`: checkpoint placement (maximal / set covering) and the seal plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from geodata import params
from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.errors import ConfigError
from geodata.services.planning import (
    apply_checkpoint_plan,
    apply_seal_plan,
    checkpoint_plan_for,
    checkpoint_plan_from_files,
    seal_plan_for,
)
from geodata.vocab import SHIFTS_PER_DAY


@click.group("plan")
def plan_group() -> None:
    """Plan checkpoints and which entrance of each compound stays open."""


def render_checkpoints(plan: dict[str, Any]) -> str:
    lines = [
        f"{plan['status']} ({plan['model']}): {len(plan['selected'])} posts, {plan['staff']} staff,"
        f" covering {plan['covered_weight']:g} of {plan['total_weight']:g}"
        f" ({plan['covered_pct']:.2f} %), {plan['covered_points']} of {plan['demand_points']}"
        f" points; gap {plan['gap']:.4%}; build {plan['build_s']} s, solve {plan['solve_s']} s"
    ]
    lines += [f"  {s['kind']} {s['id']} ({s['lon']:.6f}, {s['lat']:.6f})" for s in plan["selected"]]
    return "\n".join(lines)


@plan_group.command("checkpoints")
@click.option(
    "--model",
    type=str,
    metavar="mclp|lscp",
    default="mclp",
    show_default=True,
    help="mclp: most demand within --budget; lscp: fewest posts reaching --share",
)
@click.option("--budget", type=int, default=None, help="number of posts (K)")
@click.option("--radius-m", type=float, required=True, help="reach of a post, in metres")
@click.option(
    "--staff-budget",
    type=int,
    default=None,
    help="total staff; replaces --budget (a post needs shifts × staff per shift)",
)
@click.option("--shifts", type=int, default=SHIFTS_PER_DAY, show_default=True)
@click.option("--staff-per-shift", type=int, default=2, show_default=True)
@click.option(
    "--share",
    type=float,
    default=1.0,
    show_default=True,
    help="lscp: share of the demand weight to reach",
)
@click.option("--keep-existing", is_flag=True, help="keep every active checkpoint")
@click.option("--network", is_flag=True, help="reach along the roads, not in a straight line")
@click.option(
    "--weight",
    "weighting",
    type=str,
    metavar="members|households",
    default="members",
    show_default=True,
    help="weight of the town's demand",
)
@click.option(
    "--demand",
    "demand_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="GeoJSON points with a `weight` property (default: the town's households)",
)
@click.option(
    "--candidates",
    "candidates_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="GeoJSON points (id: `source_id`, else position; default: from the town)",
)
@click.option("--time-limit-s", type=float, default=None, help="at most 60 s; default: no limit")
@click.option("--greedy", is_flag=True, help="the fast greedy answer only, no exact solve")
@click.option("--apply", "do_apply", is_flag=True, help="write the chosen sites as checkpoints")
@format_option
@pass_ctx
@reports_errors
def plan_checkpoints_cmd(
    ctx: Context,
    model: str,
    budget: int | None,
    radius_m: float,
    staff_budget: int | None,
    shifts: int,
    staff_per_shift: int,
    share: float,
    keep_existing: bool,
    network: bool,
    weighting: str,
    demand_path: Path | None,
    candidates_path: Path | None,
    time_limit_s: float | None,
    greedy: bool,
    do_apply: bool,
    fmt: str,
) -> None:
    """Where to put checkpoints: the most demand within reach for the posts or staff at hand."""
    asked = params.validate(
        params.PlanParams,
        {
            "model": model,
            "budget": budget,
            "radius_m": radius_m,
            "staff_budget": staff_budget,
            "shifts": shifts,
            "staff_per_shift": staff_per_shift,
            "share": share,
            "keep_existing": keep_existing,
            "network": network,
            "greedy": greedy,
            "time_limit_s": time_limit_s,
            "weight": weighting,
        },
    )
    request = asked.plan_request()
    if do_apply and demand_path is not None and candidates_path is not None:
        raise ConfigError("--apply writes sites of the town: not with --demand and --candidates")
    principal = ctx.acting(Action.PLAN)
    with ctx.admin_engine.begin() as conn:
        if demand_path is not None:
            plan = checkpoint_plan_from_files(demand_path, candidates_path, request, conn=conn)
        elif candidates_path is not None:
            raise ConfigError("--candidates needs --demand")
        else:
            plan = checkpoint_plan_for(conn, principal, request, weighting=asked.weight)
        if do_apply:
            plan["applied"] = apply_checkpoint_plan(
                conn,
                principal,
                plan["selected"],
                radius_m=request.radius_m,
                staff_per_shift=request.staff_per_shift,
            )
    emit(plan, fmt, render_checkpoints)


def render_seals(plans: list[dict[str, Any]]) -> str:
    lines = []
    for plan in plans:
        keep = plan["keep"]
        lines.append(
            f"compound {plan['compound_id']}: keep {keep['source_id']} ({keep['reason']});"
            f" seal {len(plan['seal'])}; changes {plan['changes']}"
        )
        lines += [f"    seal {s['source_id']}: {s['reason']}" for s in plan["seal"]]
    return "\n".join(lines) or "no compound needs a change"


@plan_group.command("seals")
@click.option("--compound", "compound_id", type=int, default=None, help="one compound (its id)")
@click.option("--apply", "do_apply", is_flag=True, help="record the entrance events")
@format_option
@pass_ctx
@reports_errors
def plan_seals_cmd(ctx: Context, compound_id: int | None, do_apply: bool, fmt: str) -> None:
    """For every compound with several entrances: the one to keep open, the others to seal."""
    principal = ctx.acting(Action.PLAN)
    with ctx.admin_engine.begin() as conn:
        plans = seal_plan_for(conn, principal, compound_id=compound_id)
        if do_apply:
            applied = apply_seal_plan(conn, principal, plans)
    if do_apply:
        emit({"plans": plans, "applied": applied}, fmt, lambda d: render_seals(d["plans"]))
    else:
        emit(plans, fmt, render_seals)


from geodata.cli.plan_patrols import plan_patrols_cmd, plan_routes_cmd  # noqa: E402

plan_group.add_command(plan_patrols_cmd)
plan_group.add_command(plan_routes_cmd)
