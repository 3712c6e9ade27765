"""`wangge staff|teams|shifts`: people, units and shifts, named by source id (villages and
grids by code). Writes need the manage_people action (admins); every write is audited, and
so is every list of people (names and phones are personal data)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import click
from sqlalchemy import Connection

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.records import people, shifts, town_settings
from geodata.records.refusal import RecordRefused
from geodata.vocab import StaffRole, TeamKind


def _write(
    ctx: Context, action: str, object_type: str, work: Callable[[Connection, Principal], Any]
) -> Any:
    """Run one write in one transaction as a principal who may manage people; audited."""
    principal = ctx.acting(Action.MANAGE_PEOPLE)
    with ctx.admin_engine.begin() as conn:
        result, ids, detail = work(conn, principal)
        audit.record(conn, actor=principal.name, action=action, object_type=object_type,
                     object_ids=ids, row_count=len(ids), detail=detail)  # fmt: skip
    return result


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

    def work(conn: Connection, _: Principal) -> Any:
        new = people.add_staff(conn, source_id, name=name, role=StaffRole(role),
                               village=village, team=team, grid=grid, phone=phone)  # fmt: skip
        return None, [new], None

    _write(ctx, "staff_add", "staff", work)
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

    def work(conn: Connection, _: Principal) -> Any:
        fields = people.edit_staff(conn, source_id, name=name,
                                   role=None if role is None else StaffRole(role),
                                   village=village, team=team, grid=grid, phone=phone)  # fmt: skip
        return fields, [people.staff(conn, source_id).id], {"fields": fields}

    fields = _write(ctx, "staff_edit", "staff", work)
    click.echo(f"staff {source_id}: {', '.join(fields) or 'nothing'} changed")


@staff_group.command("retire")
@click.argument("source_id")
@pass_ctx
@reports_errors
def staff_retire(ctx: Context, source_id: str) -> None:
    """Retire a person (kept for the history that names them)."""
    _write(ctx, "staff_retire", "staff",
           lambda conn, _: (None, [people.retire_staff(conn, source_id)], None))  # fmt: skip
    click.echo(f"retired staff {source_id}")


@staff_group.command("list")
@click.option("--village", metavar="CODE")
@click.option("--retired", is_flag=True, help="include retired people")
@format_option
@pass_ctx
@reports_errors
def staff_list(ctx: Context, village: str | None, retired: bool, fmt: str) -> None:
    """People with their role, village, team and grid (personal data: audited)."""

    def work(conn: Connection, _: Principal) -> Any:
        rows = people.list_staff(conn, village=village, retired=retired)
        return rows, [int(r["id"]) for r in rows], None

    rows = _write(ctx, "staff_list", "staff", work)
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

    def work(conn: Connection, _: Principal) -> Any:
        new = people.add_team(conn, source_id, name=name, kind=TeamKind(kind),
                              village=village, parent=parent)  # fmt: skip
        return None, [new], {"kind": kind}

    _write(ctx, "team_add", "team", work)
    click.echo(f"added team {source_id}")


@teams_group.command("edit")
@click.argument("source_id")
@click.option("--name")
@click.option("--parent", metavar="SOURCE_ID")
@pass_ctx
@reports_errors
def teams_edit(ctx: Context, source_id: str, name: str | None, parent: str | None) -> None:
    """Rename a team or move a group under another combat unit of its village."""

    def work(conn: Connection, _: Principal) -> Any:
        fields = people.edit_team(conn, source_id, name=name, parent=parent)
        return fields, [people.team(conn, source_id).id], {"fields": fields}

    fields = _write(ctx, "team_edit", "team", work)
    click.echo(f"team {source_id}: {', '.join(fields) or 'nothing'} changed")


@teams_group.command("retire")
@click.argument("source_id")
@pass_ctx
@reports_errors
def teams_retire(ctx: Context, source_id: str) -> None:
    """Retire a team with no member or group left (kept for its history)."""
    _write(ctx, "team_retire", "team",
           lambda conn, _: (None, [people.retire_team(conn, source_id)], None))  # fmt: skip
    click.echo(f"retired team {source_id}")


@teams_group.command("list")
@click.option("--village", metavar="CODE")
@click.option("--retired", is_flag=True, help="include retired teams")
@format_option
@pass_ctx
@reports_errors
def teams_list(ctx: Context, village: str | None, retired: bool, fmt: str) -> None:
    """Teams with their kind, village, combat unit and members."""
    ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.connect() as conn:
        rows = people.list_teams(conn, village=village, retired=retired)
    columns = ["source_id", "name", "kind", "village", "parent", "members", "retired_at"]
    emit(_rows(rows), fmt, _table(columns))


# -- shifts ------------------------------------------------------------------
@click.group("shifts")
def shifts_group() -> None:
    """Checkpoint shifts and their people: add, assign, unassign, list, rota."""


@shifts_group.command("add")
@click.argument("source_id")
@click.option("--checkpoint", required=True, metavar="SOURCE_ID")
@click.option("--starts", required=True, metavar="DATETIME", help="town time unless zoned")
@click.option("--ends", required=True, metavar="DATETIME")
@pass_ctx
@reports_errors
def shifts_add(ctx: Context, source_id: str, checkpoint: str, starts: str, ends: str) -> None:
    """Add a shift (at most 24 h) to a checkpoint."""

    def work(conn: Connection, _: Principal) -> Any:
        start, end = _moment(conn, starts, "--starts"), _moment(conn, ends, "--ends")
        return None, [shifts.add_shift(conn, checkpoint, start, end, source_id=source_id)], None

    _write(ctx, "shift_add", "checkpoint_shift", work)
    click.echo(f"added shift {source_id}")


@shifts_group.command("assign")
@click.argument("shift_source_id")
@click.argument("staff_source_id")
@pass_ctx
@reports_errors
def shifts_assign(ctx: Context, shift_source_id: str, staff_source_id: str) -> None:
    """Put a person on a shift (refused if they are on an overlapping one)."""

    def work(conn: Connection, _: Principal) -> Any:
        added = shifts.assign(conn, shift_source_id, staff_source_id)
        return added, [shifts.shift(conn, shift_source_id).id], {"staff": staff_source_id}

    added = _write(ctx, "shift_assign", "checkpoint_shift", work)
    click.echo(f"{staff_source_id} {'put on' if added else 'already on'} {shift_source_id}")


@shifts_group.command("unassign")
@click.argument("shift_source_id")
@click.argument("staff_source_id")
@pass_ctx
@reports_errors
def shifts_unassign(ctx: Context, shift_source_id: str, staff_source_id: str) -> None:
    """Take a person off a shift."""

    def work(conn: Connection, _: Principal) -> Any:
        shifts.unassign(conn, shift_source_id, staff_source_id)
        return None, [shifts.shift(conn, shift_source_id).id], {"staff": staff_source_id}

    _write(ctx, "shift_unassign", "checkpoint_shift", work)
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
    ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.connect() as conn:
        rows = shifts.list_shifts(
            conn, checkpoint_source_id=checkpoint,
            start=None if start is None else _moment(conn, start, "--from"),
            end=None if end is None else _moment(conn, end, "--to"),
        )  # fmt: skip
    emit(_rows(rows), fmt, _table(["source_id", "checkpoint", "starts_at", "ends_at", "staff"]))


@shifts_group.command("rota")
@click.option("--checkpoint", required=True, metavar="SOURCE_ID")
@click.option("--from", "first_day", required=True, type=click.DateTime(["%Y-%m-%d"]),
              metavar="DAY")  # fmt: skip
@click.option("--days", required=True, type=click.IntRange(1, shifts.MAX_ROTA_DAYS))
@click.option("--pattern", default=None, help="default: the town setting shift_pattern (3x8)")
@click.option("--staff", "staff", required=True, metavar="A,B,C,...")
@format_option
@pass_ctx
@reports_errors
def shifts_rota(ctx: Context, checkpoint: str, first_day: datetime, days: int,
                pattern: str | None, staff: str, fmt: str) -> None:  # fmt: skip
    """The recurring shifts of a checkpoint with these people rotated over them; re-running
    the same rota changes nothing; refused as a whole when the people cannot cover it."""
    listed = [s.strip() for s in staff.split(",") if s.strip()]

    def work(conn: Connection, _: Principal) -> Any:
        chosen = pattern or str(town_settings.setting(conn, "shift_pattern"))
        day: date = first_day.date()
        report = shifts.make_rota(conn, checkpoint, first_day=day, days=days,
                                  pattern=chosen, staff_source_ids=listed)  # fmt: skip
        cp = shifts.checkpoint(conn, checkpoint)
        detail = {k: report[k] for k in ("created", "changed", "unchanged", "assignments")}
        return report, [int(cp.id)], detail

    report = _write(ctx, "shift_rota", "checkpoint", work)
    emit(report, fmt)
