"""`wangge users`, `households`, `audit` and `purge`: accounts and personal data, audited."""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.auth import accounts, audit, retention
from geodata.auth.access import Action, Principal
from geodata.auth.masking import PersonalField
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.errors import WanggeError
from geodata.models import Grid
from geodata.records import households
from geodata.vocab import Role


def _codes(value: str | None) -> list[str]:
    return [c.strip() for c in (value or "").split(",") if c.strip()]


def _admin(ctx: Context, session: Session, action: Action) -> Principal:
    principal = ctx.principal(session)
    principal.require(action)
    return principal


@click.group("users")
def users_group() -> None:
    """Accounts: add, list, disable, reset, and API tokens."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--grids", help="comma-separated grid codes (grid workers)")
@click.option("--villages", help="comma-separated village codes (commanders, planners)")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--display-name")
@pass_ctx
@reports_errors
def users_add(
    ctx: Context,
    name: str,
    role: str,
    grids: str | None,
    villages: str | None,
    password_stdin: bool,
    display_name: str | None,
) -> None:
    """Create an account; without --password-stdin, print a one-time activation link."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with Session(ctx.admin_engine) as session, session.begin():
        principal = _admin(ctx, session, Action.MANAGE_USERS)
        new = accounts.add_user(
            session,
            name,
            Role(role),
            grid_codes=_codes(grids),
            village_codes=_codes(villages),
            password=password,
            display_name=display_name,
        )
        audit.record(
            session.connection(),
            actor=principal.name,
            action="user_add",
            object_type="user",
            object_ids=[new.user.id],
            detail={"role": role},
        )
    click.echo(f"created {name} ({role})")
    if new.activation_code:
        click.echo(f"activation link (valid 3 days, shown once): "
                   f"{ctx.settings.public_url}/activate/{new.activation_code}")  # fmt: skip


DEMO_ROLES = (Role.ADMIN, Role.COMMANDER, Role.PLANNER, Role.ANALYST, Role.GRID_WORKER)


@users_group.command("demo")
@pass_ctx
@reports_errors
def users_demo(ctx: Context) -> None:
    """One account per role with random passwords, printed once; only when there is none."""
    with Session(ctx.admin_engine) as session, session.begin():
        principal = _admin(ctx, session, Action.MANAGE_USERS)
        if accounts.list_users(session):
            click.echo("accounts exist already: none created (see `wangge users list`)")
            return
        first_grid = session.scalar(select(Grid.code).order_by(Grid.code).limit(1))
        if first_grid is None:
            raise WanggeError("load a town first: a grid worker needs a grid")
        lines = []
        for role in DEMO_ROLES:
            password = secrets.token_urlsafe(12)
            name = f"demo-{role.value.replace('_', '-')}"
            grids = [first_grid] if role is Role.GRID_WORKER else []
            new = accounts.add_user(session, name, role, grid_codes=grids, password=password)
            audit.record(session.connection(), actor=principal.name, action="user_add",
                         object_type="user", object_ids=[new.user.id],
                         detail={"role": role.value})  # fmt: skip
            scope = f" (grid {first_grid})" if grids else ""
            lines.append(f"  {name:<18} {password}   {role.value}{scope}")
    click.echo("demo accounts (passwords shown once):")
    click.echo("\n".join(lines))


@users_group.command("list")
@format_option
@pass_ctx
@reports_errors
def users_list(ctx: Context, fmt: str) -> None:
    """Every account with its role, state and scope."""
    with Session(ctx.admin_engine) as session:
        _admin(ctx, session, Action.MANAGE_USERS)
        rows = accounts.list_users(session)
    emit(rows, fmt, _render_users)


def _render_users(rows: list[dict[str, object]]) -> str:
    lines = [f"{'user':<20} {'role':<12} {'state':<10} scope"]
    for r in rows:
        state = "active" if r["active"] else "disabled"
        if r["active"] and not r["activated"]:
            state = "pending"
        scope = ",".join(r["grids"] or r["villages"] or ["town"])  # type: ignore[arg-type]
        lines.append(f"{r['username']!s:<20} {r['role']!s:<12} {state:<10} {scope}")
    return "\n".join(lines)


def _account_change(ctx: Context, name: str, action: str) -> str | None:
    with Session(ctx.admin_engine) as session, session.begin():
        principal = _admin(ctx, session, Action.MANAGE_USERS)
        code = None
        if action == "user_disable":
            user = accounts.disable(session, name)
        else:
            code = accounts.reset(session, name)
            user = accounts.get_user(session, name)
        audit.record(
            session.connection(),
            actor=principal.name,
            action=action,
            object_type="user",
            object_ids=[user.id],
        )
    return code


@users_group.command("disable")
@click.argument("name")
@pass_ctx
@reports_errors
def users_disable(ctx: Context, name: str) -> None:
    """Disable an account and end its sessions and tokens."""
    _account_change(ctx, name, "user_disable")
    click.echo(f"disabled {name}")


@users_group.command("reset")
@click.argument("name")
@pass_ctx
@reports_errors
def users_reset(ctx: Context, name: str) -> None:
    """Clear a password, end sessions and tokens, print a new activation link."""
    code = _account_change(ctx, name, "user_reset")
    click.echo(
        f"activation link (valid 3 days, shown once): {ctx.settings.public_url}/activate/{code}"
    )


@users_group.command("token")
@click.argument("name")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None)
@pass_ctx
@reports_errors
def users_token(ctx: Context, name: str, expires_days: int | None) -> None:
    """Issue a bearer token for scripts and GIS clients (printed once)."""
    with Session(ctx.admin_engine) as session, session.begin():
        principal = _admin(ctx, session, Action.MANAGE_USERS)
        token = accounts.issue_token(session, name, expires_days=expires_days)
        audit.record(
            session.connection(),
            actor=principal.name,
            action="token_issue",
            object_type="user",
            object_ids=[accounts.get_user(session, name).id],
        )
    click.echo(token)


@users_group.command("link")
@click.argument("name")
@click.option("--staff", "staff", required=True, metavar="SOURCE_ID", help="the staff member")
@pass_ctx
@reports_errors
def users_link(ctx: Context, name: str, staff: str) -> None:
    """Link an account to a staff member: its visits record them as the worker."""
    with Session(ctx.admin_engine) as session, session.begin():
        principal = _admin(ctx, session, Action.MANAGE_USERS)
        user = accounts.link_staff(session, name, staff)
        audit.record(
            session.connection(),
            actor=principal.name,
            action="user_link_staff",
            object_type="user",
            object_ids=[user.id],
            detail={"staff_id": user.staff_id},
        )
    click.echo(f"linked {name} to staff {staff}")


@click.group("households")
def households_group() -> None:
    """Households of your grids: list, show (masked), reveal one field (audited)."""


@households_group.command("list")
@click.option("--grid", "grid_code")
@click.option("--limit", type=click.IntRange(1, 1000), default=100)
@format_option
@pass_ctx
@reports_errors
def households_list(ctx: Context, grid_code: str | None, limit: int, fmt: str) -> None:
    """Households of your grids (no personal values); audited."""
    principal = ctx.acting(Action.VIEW_HOUSEHOLDS)
    with ctx.engine.begin() as conn:
        rows = households.list_households(conn, principal, grid_code=grid_code, limit=limit)
    emit(rows, fmt)


@households_group.command("show")
@click.argument("household_id", type=int)
@format_option
@pass_ctx
@reports_errors
def households_show(ctx: Context, household_id: int, fmt: str) -> None:
    """One household with its residents, personal fields masked; audited."""
    principal = ctx.acting(Action.VIEW_HOUSEHOLDS)
    with ctx.engine.begin() as conn:
        detail = households.household_detail(conn, principal, household_id)
    emit(detail, fmt)


@households_group.command("reveal")
@click.argument("resident_id", type=int)
@click.argument("field", type=click.Choice([f.value for f in PersonalField]))
@pass_ctx
@reports_errors
def households_reveal(ctx: Context, resident_id: int, field: str) -> None:
    """One personal field of a resident of your grids, unmasked; audited."""
    principal = ctx.acting(Action.REVEAL_PERSONAL)
    with ctx.engine.begin() as conn:
        value = households.reveal(conn, principal, resident_id, PersonalField(field))
    click.echo(value or "")


@click.command("audit")
@click.option("--since", type=click.DateTime(), required=True, help="ISO date or date-time (UTC)")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=10_000)
@format_option
@pass_ctx
@reports_errors
def audit_cmd(ctx: Context, since: datetime, limit: int, fmt: str) -> None:
    """The audit log since a date: who, when, what, which objects, how many rows."""
    with Session(ctx.admin_engine) as session, session.begin():
        principal = _admin(ctx, session, Action.VIEW_AUDIT)
        conn = session.connection()
        events = audit.events_since(conn, since.replace(tzinfo=since.tzinfo or UTC), limit=limit)
        audit.record(conn, actor=principal.name, action="audit_read", row_count=len(events))
    emit(events, fmt, lambda ev: "\n".join(
        f"{e['at']} {e['actor']} {e['action']} {e['object_type'] or ''} "
        f"{e['object_ids']} rows={e['row_count']}" for e in ev))  # fmt: skip


@click.command("purge")
@click.option("--older-than", "days", type=click.IntRange(1), required=True, help="days")
@click.option("--apply", is_flag=True, help="really change data (default: a dry run)")
@format_option
@pass_ctx
@reports_errors
def purge_cmd(ctx: Context, days: int, apply: bool, fmt: str) -> None:
    """Anonymise residents and delete visits past retention; a dry run unless --apply."""
    with Session(ctx.admin_engine) as session, session.begin():
        principal = _admin(ctx, session, Action.PURGE)
        report = retention.purge(
            session.connection(), older_than_days=days, actor=principal.name, dry_run=not apply
        )
    emit(report.__dict__, fmt)
