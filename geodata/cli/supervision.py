"""`wangge inspections add|list|overdue` and `wangge rectifications add|fix|verify|list`:
supervision (督导) of the checkpoints through `geodata.services.supervision` (commanders for
their villages, admins; audited). Checkpoints and staff are named by their source id."""

from __future__ import annotations

from typing import Any

import click

from geodata import params
from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.params.supervision import (
    InspectionParams,
    RectificationParams,
    RectificationStepParams,
)

CHECKLIST_FLAGS = (
    ("staff-present", "staff_present", "the shift's people are there"),
    ("temperatures-taken", "temperatures_taken", "temperatures are taken"),
    ("register-kept", "register_kept", "the register of passers is kept"),
    ("masks", "masks", "masks are worn"),
    ("disinfection", "disinfection", "the post is disinfected"),
)


def _with_checklist(command: Any) -> Any:
    for flag, name, about in reversed(CHECKLIST_FLAGS):
        command = click.option(f"--{flag}/--no-{flag}", name, required=True, help=about)(command)
    return command


def render_items(items: list[dict[str, Any]]) -> str:
    if not items:
        return "no items"
    return "\n".join(
        f"#{i['id']} {i['checkpoint']} {i['status']} (version {i['version']}) owner {i['owner']}"
        f" due {i['deadline']}: {i['description']}"
        for i in items
    )


def render_item(item: dict[str, Any]) -> str:
    return render_items([item])


def render_day(day: dict[str, Any]) -> str:
    lines = [f"{day['day']}: {len(day['inspections'])} inspection(s)"]
    for i in day["inspections"]:
        failed = [name for _, name, _ in CHECKLIST_FLAGS if not i[name]]
        lines.append(
            f"  #{i['id']} {i['checkpoint']} {i['at']} by {i['inspector']}: "
            + ("all checked" if not failed else "failed " + ", ".join(failed))
        )
    lines.append("not inspected: " + (", ".join(day["not_inspected"]) or "none"))
    return "\n".join(lines)


@click.group("inspections")
def inspections_group() -> None:
    """Daily inspections of the checkpoints (督导)."""


@inspections_group.command("add")
@click.argument("checkpoint")
@click.option("--inspector", required=True, metavar="STAFF_SOURCE_ID")
@click.option("--at", "at", metavar="DATETIME", default=None, help="when (default now)")
@_with_checklist
@click.option("--notes", default=None)
@format_option
@pass_ctx
@reports_errors
def inspection_add(
    ctx: Context,
    checkpoint: str,
    inspector: str,
    at: str | None,
    staff_present: bool,
    temperatures_taken: bool,
    register_kept: bool,
    masks: bool,
    disinfection: bool,
    notes: str | None,
    fmt: str,
) -> None:
    """Record an inspection of CHECKPOINT (its source id) with the checklist."""
    from geodata.services.supervision import add_inspection

    principal = ctx.acting(Action.SUPERVISE)
    fields: dict[str, Any] = {
        "checkpoint": checkpoint,
        "inspector": inspector,
        "staff_present": staff_present,
        "temperatures_taken": temperatures_taken,
        "register_kept": register_kept,
        "masks": masks,
        "disinfection": disinfection,
        "notes": notes,
    }
    if at is not None:
        fields["at"] = at
    request = params.validate(InspectionParams, fields)
    with ctx.admin_engine.begin() as conn:
        new_id = add_inspection(conn, principal, request)
    emit({"id": new_id, "checkpoint": checkpoint}, fmt, lambda d: f"inspection #{d['id']}")


@inspections_group.command("list")
@click.option("--day", default=None, metavar="DATE", help="a town-time day (default today)")
@format_option
@pass_ctx
@reports_errors
def inspection_list(ctx: Context, day: str | None, fmt: str) -> None:
    """A day's inspections and the active checkpoints not inspected."""
    from geodata.records.as_of import parse_as_of
    from geodata.services.supervision import list_inspections

    principal = ctx.acting(Action.SUPERVISE)
    moment = None if day is None else parse_as_of(day)
    with ctx.admin_engine.begin() as conn:
        emit(list_inspections(conn, principal, moment), fmt, render_day)


@inspections_group.command("overdue")
@click.option("--at", "at", metavar="DATETIME", default=None, help="the moment (default now)")
@format_option
@pass_ctx
@reports_errors
def inspection_overdue(ctx: Context, at: str | None, fmt: str) -> None:
    """Rectification items past their deadline, open or fixed but not verified."""
    from geodata.records.as_of import parse_as_of
    from geodata.services.supervision import overdue

    principal = ctx.acting(Action.SUPERVISE)
    moment = None if at is None else parse_as_of(at)
    with ctx.admin_engine.begin() as conn:
        emit(overdue(conn, principal, moment), fmt, render_items)


@click.group("rectifications")
def rectifications_group() -> None:
    """Rectification items (整改事项): open, fixed, verified by someone else."""


@rectifications_group.command("add")
@click.argument("checkpoint")
@click.option("--description", required=True)
@click.option("--owner", required=True, metavar="STAFF_SOURCE_ID")
@click.option("--deadline", required=True, metavar="DATETIME")
@click.option("--inspection", type=int, default=None, help="the inspection that found it")
@format_option
@pass_ctx
@reports_errors
def rectification_add(
    ctx: Context,
    checkpoint: str,
    description: str,
    owner: str,
    deadline: str,
    inspection: int | None,
    fmt: str,
) -> None:
    """An item to put right at CHECKPOINT (its source id)."""
    from geodata.services.supervision import add_rectification

    principal = ctx.acting(Action.SUPERVISE)
    fields = {"checkpoint": checkpoint, "description": description, "owner": owner,
              "deadline": deadline, "inspection": inspection}  # fmt: skip
    request = params.validate(RectificationParams, fields)
    with ctx.admin_engine.begin() as conn:
        emit(add_rectification(conn, principal, request), fmt, render_item)


def _step(
    ctx: Context, item_id: int, by: str, version: int | None, at: str | None, *, verify: bool
) -> dict[str, Any]:
    from geodata.records.supervision import rectification
    from geodata.services.supervision import step

    principal = ctx.acting(Action.SUPERVISE)
    with ctx.admin_engine.begin() as conn:
        if version is None:
            seen = rectification(conn, item_id)
            version = int(seen["version"]) if seen is not None else 1
        fields: dict[str, Any] = {"by": by, "version": version}
        if at is not None:
            fields["at"] = at
        request = params.validate(RectificationStepParams, fields)
        return step(conn, principal, item_id, request, verify=verify)


_STEP_OPTIONS = (
    click.option("--by", required=True, metavar="STAFF_SOURCE_ID"),
    click.option("--version", type=int, default=None, help="the version seen (default current)"),
    click.option("--at", "at", metavar="DATETIME", default=None, help="when (default now)"),
)


def _with_step_options(command: Any) -> Any:
    for option in reversed(_STEP_OPTIONS):
        command = option(command)
    return command


@rectifications_group.command("fix")
@click.argument("item_id", type=int)
@_with_step_options
@format_option
@pass_ctx
@reports_errors
def rectification_fix(
    ctx: Context, item_id: int, by: str, version: int | None, at: str | None, fmt: str
) -> None:
    """Mark item ITEM_ID fixed (by its owner or another)."""
    emit(_step(ctx, item_id, by, version, at, verify=False), fmt, render_item)


@rectifications_group.command("verify")
@click.argument("item_id", type=int)
@_with_step_options
@format_option
@pass_ctx
@reports_errors
def rectification_verify(
    ctx: Context, item_id: int, by: str, version: int | None, at: str | None, fmt: str
) -> None:
    """Verify fixed item ITEM_ID: not by the person who fixed it."""
    emit(_step(ctx, item_id, by, version, at, verify=True), fmt, render_item)


@rectifications_group.command("list")
@click.option("--status", type=click.Choice(["open", "fixed", "verified"]), default=None)
@click.option("--overdue", is_flag=True, help="only items past their deadline now")
@format_option
@pass_ctx
@reports_errors
def rectification_list(ctx: Context, status: str | None, overdue: bool, fmt: str) -> None:
    """Rectification items of the checkpoints in scope, by deadline."""
    from datetime import UTC, datetime

    from geodata.services.supervision import list_rectifications

    principal = ctx.acting(Action.SUPERVISE)
    with ctx.admin_engine.begin() as conn:
        items = list_rectifications(
            conn, principal, status=status, overdue_at=datetime.now(UTC) if overdue else None
        )
    emit(items, fmt, render_items)
