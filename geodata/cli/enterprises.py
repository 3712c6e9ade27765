"""`wangge risk-areas add|list|retire` and `wangge enterprises add|update|list|review|reviews`,
`wangge enterprises passes issue|list|counts`: enterprises screened before they resume work,
through `geodata.services.enterprises` and `geodata.services.passes` (audited)."""

from __future__ import annotations

from typing import Any

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records.enterprise_reviews import CHECKLIST, DECISIONS
from geodata.records.enterprises import KINDS, STATES


def render_enterprises(data: dict[str, Any]) -> str:
    return (
        "\n".join(
            f"{e['source_id']} [{e['state']}] {e['kind']} {e['village']}: {e['name']},"
            f" {e['staff_total']} staff ({e['staff_local']} local)"
            for e in data["enterprises"]
        )
        or "no enterprises"
    )


def render_passes(data: dict[str, Any]) -> str:
    return (
        "\n".join(
            f"{p['number']} {p['enterprise']}: {p['resident'] or p['name']}"
            f" {p['valid_from']}..{p['valid_until']}"
            for p in data["passes"]
        )
        or "no passes"
    )


@click.group("risk-areas")
def risk_areas_group() -> None:
    """Risk areas (outbreak areas), kept by admins, each with its days."""


@risk_areas_group.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--from", "from_day", required=True, metavar="DAY", help="first day (YYYY-MM-DD)")
@click.option("--until", "until_day", default=None, metavar="DAY", help="last day (open: none)")
@format_option
@pass_ctx
@reports_errors
def risk_area_add(
    ctx: Context, code: str, name: str, from_day: str, until_day: str | None, fmt: str
) -> None:
    """A risk area CODE from one day (until another)."""
    from geodata.records.risk_areas import parse_day
    from geodata.services.enterprises import add_risk_area

    record = f"risk area {code!r}"
    first = parse_day(record, "from", from_day)
    if first is None:
        from geodata.records.refusal import RecordRefused

        raise RecordRefused(f"{record}: from: required")
    last = parse_day(record, "until", until_day)
    principal = ctx.acting(Action.MANAGE_TOWN)
    with ctx.admin_engine.begin() as conn:
        new_id = add_risk_area(conn, principal, code, name=name, from_day=first, until_day=last)
    emit({"id": new_id, "risk_area": code}, fmt, lambda d: f"risk area {d['risk_area']}")


@risk_areas_group.command("list")
@click.option("--on", "on", default=None, metavar="DAY", help="only those in force that day")
@click.option("--retired", is_flag=True, help="retired ones too")
@format_option
@pass_ctx
@reports_errors
def risk_area_list(ctx: Context, on: str | None, retired: bool, fmt: str) -> None:
    from geodata.records.risk_areas import parse_day
    from geodata.services.enterprises import list_risk_areas

    day = parse_day("risk areas", "on", on)
    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        found = list_risk_areas(conn, principal, on=day, retired=retired)
    emit({"risk_areas": found}, fmt, lambda d: "\n".join(
        f"{a['code']} {a['from']}..{a['until'] or ''}: {a['name']}"
        + (" (retired)" if a["retired_at"] else "") for a in d["risk_areas"]
    ) or "no risk areas")  # fmt: skip


@risk_areas_group.command("retire")
@click.argument("code")
@format_option
@pass_ctx
@reports_errors
def risk_area_retire(ctx: Context, code: str, fmt: str) -> None:
    """Retire risk area CODE (kept; no longer named by new staff counts)."""
    from geodata.services.enterprises import retire_risk_area

    principal = ctx.acting(Action.MANAGE_TOWN)
    with ctx.admin_engine.begin() as conn:
        retire_risk_area(conn, principal, code)
    emit({"retired": code}, fmt, lambda d: f"risk area {d['retired']} retired")


@click.group("enterprises")
def enterprises_group() -> None:
    """Enterprises resuming work: the layer, resumption reviews and passes."""


def _enterprise_options(func: Any) -> Any:
    for option in reversed(
        [
            click.argument("source_id"),
            click.option("--name", required=True),
            click.option("--kind", type=click.Choice(KINDS), required=True),
            click.option("--responsible", required=True, help="the person responsible"),
            click.option("--staff-total", type=int, required=True),
            click.option("--staff-local", type=int, default=0, show_default=True),
            click.option(
                "--risk-staff",
                multiple=True,
                metavar="CODE:COUNT",
                help="staff from a risk area (repeat)",
            ),
            click.option(
                "--village", metavar="CODE", default=None, help="default: the village containing it"
            ),
            click.option("--lon", type=float, default=None),
            click.option("--lat", type=float, default=None),
            click.option("--wkt", default=None, help="a Point, Polygon or MultiPolygon (WGS84)"),
            format_option,
        ]
    ):
        func = option(func)
    return func


def _save(ctx: Context, source_id: str, kw: dict[str, Any], *, new: bool) -> None:
    from geodata.records.enterprises import EnterpriseFields, parse_risk_staff
    from geodata.records.placed import Where
    from geodata.services.enterprises import save_enterprise

    record = f"enterprise {source_id!r}"
    fields = EnterpriseFields(
        name=kw["name"], kind=kw["kind"], responsible=kw["responsible"],
        staff_total=kw["staff_total"], staff_local=kw["staff_local"],
        risk_staff=parse_risk_staff(record, list(kw["risk_staff"])),
        where=Where(lon=kw["lon"], lat=kw["lat"], wkt=kw["wkt"], village=kw["village"]),
    )  # fmt: skip
    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        outcome, new_id = save_enterprise(conn, principal, source_id, fields, new=new)
    emit({"id": new_id, "enterprise": source_id, "outcome": outcome}, kw["fmt"],
         lambda d: f"enterprise {d['enterprise']}: {d['outcome']}")  # fmt: skip


@enterprises_group.command("add")
@_enterprise_options
@pass_ctx
@reports_errors
def enterprise_add(ctx: Context, /, source_id: str, **kw: Any) -> None:
    """A new enterprise SOURCE_ID (a point from --lon/--lat, or --wkt)."""
    _save(ctx, source_id, kw, new=True)


@enterprises_group.command("update")
@_enterprise_options
@pass_ctx
@reports_errors
def enterprise_update(ctx: Context, /, source_id: str, **kw: Any) -> None:
    """Change enterprise SOURCE_ID (every field given again); its reviews are kept."""
    _save(ctx, source_id, kw, new=False)


@enterprises_group.command("list")
@click.option("--state", type=click.Choice(STATES), default=None)
@format_option
@pass_ctx
@reports_errors
def enterprise_list(ctx: Context, state: str | None, fmt: str) -> None:
    """Enterprises with their state: approved, conditional, refused or pending (no review)."""
    from geodata.services.enterprises import list_enterprises

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        found = list_enterprises(conn, principal, state=state)
    emit({"enterprises": found}, fmt, render_enterprises)


@enterprises_group.command("review")
@click.argument("enterprise")
@click.option("--decision", required=True, help=f"one of {', '.join(DECISIONS)}")
@click.option("--met", "met", multiple=True, metavar="ITEM",
              help=f"a checklist item met (repeat): {', '.join(CHECKLIST)}")  # fmt: skip
@click.option("--conditions", default=None, help="what a conditional approval requires")
@click.option("--on", "on", default=None, metavar="DAY", help="the day reviewed (default today)")
@format_option
@pass_ctx
@reports_errors
def enterprise_review(
    ctx: Context, enterprise: str, decision: str, met: tuple[str, ...], conditions: str | None,
    on: str | None, fmt: str,
) -> None:  # fmt: skip
    """Review ENTERPRISE for resumption; earlier reviews are kept."""
    from geodata.records.enterprise_reviews import Review
    from geodata.records.risk_areas import parse_day
    from geodata.services.enterprises import review, town_today

    record = f"review of enterprise {enterprise!r}"
    day = parse_day(record, "reviewed_on", on)
    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        given = Review(decision=decision, checklist=dict.fromkeys(met, True),
                       reviewed_on=day or town_today(conn), conditions=conditions)  # fmt: skip
        review_id = review(conn, principal, enterprise, given)
    emit({"id": review_id, "enterprise": enterprise, "decision": decision}, fmt,
         lambda d: f"{d['enterprise']}: {d['decision']}")  # fmt: skip


@enterprises_group.command("reviews")
@click.argument("enterprise")
@format_option
@pass_ctx
@reports_errors
def enterprise_reviews_cmd(ctx: Context, enterprise: str, fmt: str) -> None:
    """ENTERPRISE's state and every review, the latest first."""
    from geodata.services.enterprises import reviews

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        found = reviews(conn, principal, enterprise)
    emit(found, fmt, lambda d: f"{d['enterprise']}: {d['state']}\n" + "\n".join(
        f"  {r['reviewed_on']} {r['decision']} by {r['reviewer']}" for r in d["reviews"]
    ))  # fmt: skip


@enterprises_group.group("passes")
def passes_group() -> None:
    """Passes for returning staff (personal data: masked, revealed by right, audited)."""


@passes_group.command("issue")
@click.argument("number")
@click.option("--enterprise", required=True, metavar="SOURCE_ID")
@click.option("--resident", default=None, metavar="SOURCE_ID", help="a resident of the town")
@click.option("--name", default=None, help="anyone else: the name (with --id-number)")
@click.option("--id-number", default=None, help="anyone else: the identity card number")
@click.option("--from", "valid_from", required=True, metavar="DAY")
@click.option("--until", "valid_until", required=True, metavar="DAY")
@format_option
@pass_ctx
@reports_errors
def pass_issue(
    ctx: Context, number: str, enterprise: str, resident: str | None, name: str | None,
    id_number: str | None, valid_from: str, valid_until: str, fmt: str,
) -> None:  # fmt: skip
    """Issue pass NUMBER; refused before the enterprise's approval or for a resident in active
    quarantine."""
    from geodata.records.passes import PassFields
    from geodata.records.risk_areas import parse_day
    from geodata.services.passes import issue

    record = f"pass {number!r}"
    fields = PassFields(
        enterprise=enterprise, resident=resident, name=name, id_number=id_number,
        valid_from=parse_day(record, "valid_from", valid_from),
        valid_until=parse_day(record, "valid_until", valid_until),
    )  # fmt: skip
    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        outcome, pass_id = issue(conn, principal, number, fields)
    emit({"id": pass_id, "number": number, "outcome": outcome}, fmt,
         lambda d: f"pass {d['number']}: {d['outcome']}")  # fmt: skip


@passes_group.command("list")
@click.option("--enterprise", default=None, metavar="SOURCE_ID")
@click.option("--reveal", is_flag=True, help="names and ID numbers unmasked (audited)")
@format_option
@pass_ctx
@reports_errors
def pass_list(ctx: Context, enterprise: str | None, reveal: bool, fmt: str) -> None:
    """Passes of the enterprises in your villages; personal fields masked."""
    from geodata.services.passes import list_passes

    principal = ctx.acting(Action.VIEW_HOUSEHOLDS)
    with ctx.admin_engine.begin() as conn:
        found = list_passes(conn, principal, enterprise=enterprise, reveal=reveal)
    for row in found:
        row.pop("id")
    emit({"passes": found}, fmt, render_passes)


@passes_group.command("counts")
@format_option
@pass_ctx
@reports_errors
def pass_counts(ctx: Context, fmt: str) -> None:
    """How many passes: issued, valid today, for residents."""
    from geodata.services.passes import counts

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        emit(counts(conn, principal), fmt)
