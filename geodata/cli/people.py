"""`wangge staff|teams|shifts`: people, units and shifts, named by source id (villages and
grids by code). Writes need the manage_people action (admins for the town, commanders for
their villages; `geodata.services.people`); every write is audited, and so is every list of
people (names and phones are personal data)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click
from sqlalchemy import Connection

from geodata.auth.access import Action, Principal
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records import shifts, town_settings
from geodata.records.refusal import RecordRefused
from geodata.services import people as service
from geodata.vocab import StaffRole, TeamKind

T = TypeVar("T")


def _write(ctx: Context, work: Callable[[Connection, Principal], T]) -> T:
    """Run one change in one transaction as a principal who may manage people (the service
    checks the village and audits)."""
    principal = ctx.acting(Action.MANAGE_PEOPLE)
    with ctx.admin_engine.begin() as conn:
        return work(conn, principal)


def _moment(conn: Connection, value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RecordRefused(f"{field}: not a date and time (2026-03-01T08:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=town_settings.town_timezone(conn))
    return moment


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items() if k != "id"}
        for r in rows
    ]


def _table(columns: list[str]) -> Callable[[list[dict[str, Any]]], str]:
    def render(rows: list[dict[str, Any]]) -> str:
        lines = ["\t".join(columns)]
        lines += ["\t".join("" if r.get(c) is None else str(r[c]) for c in columns) for r in rows]
        return "\n".join(lines)

    return render


# -- staff -------------------------------------------------------------------
@click.group("staff")
def staff_group() -> None:
    """People on duty: add, edit, retire, list."""


ROLES = click.Choice([r.value for r in StaffRole])


@staff_group.command("add")
@click.argument("source_id")
@click.option("--name", required=True)
@click.option("--role", type=ROLES, required=True)
@click.option("--village", required=True, metavar="CODE")
@click.option("--team", metavar="SOURCE_ID")
@click.option("--grid", metavar="CODE")
@click.option("--phone")
@pass_ctx
@reports_errors
def staff_add(ctx: Context, source_id: str, name: str, role: str, village: str,
              team: str | None, grid: str | None, phone: str | None) -> None:  # fmt: skip
    """Add a person; their team and grid must be of their village."""

    _write(ctx, lambda conn, who: service.add_staff(
        conn, who, source_id, name=name, role=StaffRole(role), village=village, team=team,
        grid=grid, phone=phone))  # fmt: skip
    click.echo(f"added staff {source_id}")


@staff_group.command("edit")
@click.argument("source_id")
@click.option("--name")
@click.option("--role", type=ROLES)
@click.option("--village", metavar="CODE")
@click.option("--team", metavar="SOURCE_ID")
@click.option("--grid", metavar="CODE")
@click.option("--phone", help="empty to clear")
@pass_ctx
@reports_errors
def staff_edit(ctx: Context, source_id: str, name: str | None, role: str | None,
               village: str | None, team: str | None, grid: str | None,
               phone: str | None) -> None:  # fmt: skip
    """Change the fields given."""

    fields = _write(ctx, lambda conn, who: service.edit_staff(
        conn, who, source_id, name=name, role=None if role is None else StaffRole(role),
        village=village, team=team, grid=grid, phone=phone))  # fmt: skip
    click.echo(f"staff {source_id}: {', '.join(fields) or 'nothing'} changed")


@staff_group.command("retire")
@click.argument("source_id")
@pass_ctx
@reports_errors
def staff_retire(ctx: Context, source_id: str) -> None:
    """Retire a person (kept for the history that names them)."""
    _write(ctx, lambda conn, who: service.retire_staff(conn, who, source_id))
    click.echo(f"retired staff {source_id}")


@staff_group.command("list")
@click.option("--village", metavar="CODE")
@click.option("--retired", is_flag=True, help="include retired people")
@format_option
@pass_ctx
@reports_errors
def staff_list(ctx: Context, village: str | None, retired: bool, fmt: str) -> None:
    """People with their role, village, team and grid (personal data: audited)."""

    rows = _write(
        ctx, lambda conn, who: service.list_staff(conn, who, village=village, retired=retired)
    )
    columns = ["source_id", "name", "role", "phone", "village", "team", "grid", "retired_at"]
    emit(_rows(rows), fmt, _table(columns))


# -- teams -------------------------------------------------------------------
@click.group("teams")
def teams_group() -> None:
    """Combat units and their groups: add, edit, retire, list."""


@teams_group.command("add")
@click.argument("source_id")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice([k.value for k in TeamKind]), required=True)
@click.option("--village", required=True, metavar="CODE")
@click.option("--parent", metavar="SOURCE_ID", help="the combat unit of a group")
@pass_ctx
@reports_errors
def teams_add(ctx: Context, source_id: str, name: str, kind: str, village: str,
              parent: str | None) -> None:  # fmt: skip
    """Add a combat unit (one per village) or a group under its village's combat unit."""

    _write(ctx, lambda conn, who: service.add_team(
        conn, who, source_id, name=name, kind=TeamKind(kind), village=village,
        parent=parent))  # fmt: skip
    click.echo(f"added team {source_id}")


@teams_group.command("edit")
@click.argument("source_id")
@click.option("--name")
@click.option("--parent", metavar="SOURCE_ID")
@pass_ctx
@reports_errors
def teams_edit(ctx: Context, source_id: str, name: str | None, parent: str | None) -> None:
    """Rename a team or move a group under another combat unit of its village."""

    fields = _write(
        ctx, lambda conn, who: service.edit_team(conn, who, source_id, name=name, parent=parent)
    )
    click.echo(f"team {source_id}: {', '.join(fields) or 'nothing'} changed")


@teams_group.command("retire")
@click.argument("source_id")
@pass_ctx
@reports_errors
def teams_retire(ctx: Context, source_id: str) -> None:
    """Retire a team with no member or group left (kept for its history)."""
    _write(ctx, lambda conn, who: service.retire_team(conn, who, source_id))
    click.echo(f"retired team {source_id}")


@teams_group.command("list")
@click.option("--village", metavar="CODE")
@click.option("--retired", is_flag=True, help="include retired teams")
@format_option
@pass_ctx
@reports_errors
def teams_list(ctx: Context, village: str | None, retired: bool, fmt: str) -> None:
    """Teams with their kind, village, combat unit and members."""
    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.connect() as conn:
        rows = service.list_teams(conn, principal, village=village, retired=retired)
    columns = ["source_id", "name", "kind", "village", "parent", "members", "retired_at"]
    emit(_rows(rows), fmt, _table(columns))


# -- shifts ------------------------------------------------------------------
@click.group("shifts")
def shifts_group() -> None:
    """Checkpoint shifts and their people: add, assign, unassign, list, rota."""


@shifts_group.command("add")
@click.argument("source_id")
@click.option("--checkpoint", metavar="SOURCE_ID", help="the checkpoint kept (or --zone)")
@click.option("--zone", metavar="SOURCE_ID", help="the patrol zone patrolled (or --checkpoint)")
@click.option("--starts", required=True, metavar="DATETIME", help="town time unless zoned")
@click.option("--ends", required=True, metavar="DATETIME")
@pass_ctx
@reports_errors
def shifts_add(ctx: Context, source_id: str, checkpoint: str | None, zone: str | None,
               starts: str, ends: str) -> None:  # fmt: skip
    """Add a shift (at most 24 h) at a checkpoint or on a patrol zone."""

    def work(conn: Connection, who: Principal) -> int:
        start, end = _moment(conn, starts, "--starts"), _moment(conn, ends, "--ends")
        return service.add_shift(
            conn, who, source_id, checkpoint=checkpoint, zone=zone, starts_at=start, ends_at=end
        )

    _write(ctx, work)
    click.echo(f"added shift {source_id}")


@shifts_group.command("assign")
@click.argument("shift_source_id")
@click.argument("staff_source_id")
@pass_ctx
@reports_errors
def shifts_assign(ctx: Context, shift_source_id: str, staff_source_id: str) -> None:
    """Put a person on a shift (refused if they are on an overlapping one)."""

    added = _write(
        ctx, lambda conn, who: service.assign(conn, who, shift_source_id, staff_source_id)
    )
    click.echo(f"{staff_source_id} {'put on' if added else 'already on'} {shift_source_id}")


@shifts_group.command("unassign")
@click.argument("shift_source_id")
@click.argument("staff_source_id")
@pass_ctx
@reports_errors
def shifts_unassign(ctx: Context, shift_source_id: str, staff_source_id: str) -> None:
    """Take a person off a shift."""

    _write(ctx, lambda conn, who: service.unassign(conn, who, shift_source_id, staff_source_id))
    click.echo(f"{staff_source_id} taken off {shift_source_id}")


@shifts_group.command("list")
@click.option("--checkpoint", metavar="SOURCE_ID")
@click.option("--from", "start", metavar="DATETIME")
@click.option("--to", "end", metavar="DATETIME")
@format_option
@pass_ctx
@reports_errors
def shifts_list(ctx: Context, checkpoint: str | None, start: str | None, end: str | None,
                fmt: str) -> None:  # fmt: skip
    """Shifts with their checkpoint, times and people (staff source ids)."""
    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.connect() as conn:
        rows = service.list_shifts(
            conn, principal, checkpoint=checkpoint,
            start=None if start is None else _moment(conn, start, "--from"),
            end=None if end is None else _moment(conn, end, "--to"),
        )  # fmt: skip
    columns = ["source_id", "checkpoint", "zone", "starts_at", "ends_at", "staff"]
    emit(_rows(rows), fmt, _table(columns))


@shifts_group.command("rota")
@click.option("--checkpoint", metavar="SOURCE_ID", help="a checkpoint's rota (or --zone)")
@click.option("--zone", metavar="SOURCE_ID",
              help="a patrol zone's rota: one shift a duty day over the zone's period, "
              "--staff (group A) and --staff-b (group B) on duty in turn")  # fmt: skip
@click.option("--from", "first_day", required=True, type=click.DateTime(["%Y-%m-%d"]),
              metavar="DAY")  # fmt: skip
@click.option("--days", required=True, type=click.IntRange(1, shifts.MAX_ROTA_DAYS))
@click.option("--pattern", default=None, help="default: the town setting shift_pattern (3x8)")
@click.option("--staff", "staff", required=True, metavar="A,B,C,...")
@click.option("--staff-b", "staff_b", default="", metavar="D,E,...",
              help="a patrol zone's group B (A/B duty)")  # fmt: skip
@format_option
@pass_ctx
@reports_errors
def shifts_rota(ctx: Context, checkpoint: str | None, zone: str | None, first_day: datetime,
                days: int, pattern: str | None, staff: str, staff_b: str,
                fmt: str) -> None:  # fmt: skip
    """The recurring shifts of a checkpoint, or of a patrol zone's period, with these people
    on them; re-running the same rota changes nothing; refused as a whole when the people
    cannot cover it."""
    listed, group_b = _listed(staff), _listed(staff_b)
    if (checkpoint is None) == (zone is None):
        raise RecordRefused("rota: give --checkpoint or --zone")
    if zone is not None:
        report = _write(ctx, lambda conn, who: service.zone_rota(
            conn, who, zone=zone, first_day=first_day.date(), days=days, group_a=listed,
            group_b=group_b))  # fmt: skip
    else:
        if group_b:
            raise RecordRefused("rota: --staff-b is for a patrol zone's rota")
        report = _write(ctx, lambda conn, who: service.rota(
            conn, who, checkpoint=str(checkpoint), first_day=first_day.date(), days=days,
            pattern=pattern, staff=listed))  # fmt: skip
    emit(report, fmt)


def _listed(raw: str) -> list[str]:
    return [s.strip() for s in raw.split(",") if s.strip()]
