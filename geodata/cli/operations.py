"""`wangge entrances set-state`, `wangge checkpoints set-state` and `wangge shifts put-on |
take-off`: the command post's changes, as the API makes them (`geodata.services.operations`
and `geodata.services.shift_staffing`).

Objects are named by their source id. A change needs the version the caller saw; without
`--version` the current one is read in the same transaction (the command line acts at once).
The `shifts` group also holds the commands of `geodata.cli.people` (add, assign, rota...).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from geodata import params
from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.params.operations import ShiftStaffParams, StateChangeParams

_CHANGE_OPTIONS = (
    click.option(
        "--effective-at",
        metavar="DATETIME",
        default=None,
        help="when it takes effect (town time unless zoned); default now",
    ),
    click.option("--responsible", required=True, metavar="STAFF_SOURCE_ID"),
    click.option("--reason", required=True, help="why (recorded with the event)"),
    click.option(
        "--version", type=int, default=None, help="the version seen (default: the current one)"
    ),
)


def _with_change_options(command: Any) -> Any:
    for option in reversed(_CHANGE_OPTIONS):
        command = option(command)
    return command


def render(obj: dict[str, Any]) -> str:
    lines = [f"{obj['type']} {obj['source_id']}: {obj.get('state', '')} (version {obj['version']})"]
    for p in obj.get("planned", []):
        what = p["state"] if "state" in p else f"{p['change'].replace('_', ' ')} {p['staff']}"
        lines.append(f"  planned {p['effective_at']}: {what}")
    if "people" in obj:
        lines.append(f"  {obj['starts_at']} - {obj['ends_at']}")
        lines += [f"    {p['staff']}: {p['from']} - {p['until']}" for p in obj["people"]]
    return "\n".join(lines)


def _set_state(
    ctx: Context,
    kind: str,
    source_id: str,
    state: str,
    *,
    effective_at: str | None,
    responsible: str,
    reason: str,
    version: int | None,
) -> dict[str, Any]:
    from geodata.services.operations import set_state, show

    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        seen = (
            version
            if version is not None
            else int(show(conn, principal, kind, source_id)["version"])
        )
        fields: dict[str, Any] = {
            "state": state,
            "version": seen,
            "reason": reason,
            "responsible": responsible,
        }
        if effective_at is not None:
            fields["effective_at"] = effective_at
        change = params.validate(StateChangeParams, fields)
        return set_state(conn, principal, kind, source_id, change)


@click.group("entrances")
def entrances_group() -> None:
    """Entrances: seal or open them (the command post)."""


def _set_state_command(kind: str, states: tuple[str, ...], help_text: str) -> click.Command:
    """`set-state` of an entrance or a checkpoint: the same options, the kind's states."""

    @click.command("set-state", help=help_text)
    @click.argument("source_id")
    @click.argument("state", type=click.Choice(states))
    @_with_change_options
    @format_option
    @pass_ctx
    @reports_errors
    def command(
        ctx: Context,
        source_id: str,
        state: str,
        effective_at: str | None,
        responsible: str,
        reason: str,
        version: int | None,
        fmt: str,
    ) -> None:
        done = _set_state(
            ctx,
            kind,
            source_id,
            state,
            effective_at=effective_at,
            responsible=responsible,
            reason=reason,
            version=version,
        )
        emit(done, fmt, render)

    return command


entrances_group.add_command(
    _set_state_command(
        "entrance",
        ("open", "sealed", "checkpoint"),
        "Seal or open entrance SOURCE_ID, now or at --effective-at.",
    )
)


@click.group("checkpoints")
def checkpoints_group() -> None:
    """Checkpoints: activate or close them (the command post)."""


checkpoints_group.add_command(
    _set_state_command(
        "checkpoint",
        ("active", "closed"),
        "Activate or close checkpoint SOURCE_ID, now or at --effective-at.",
    )
)


def _shift_change(
    ctx: Context,
    shift: str,
    staff: str,
    *,
    effective_at: str | None,
    responsible: str,
    reason: str,
    version: int | None,
    on: bool,
) -> dict[str, Any]:
    from geodata.services.shift_staffing import change_shift_staff, show_shift

    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        seen = (
            version if version is not None else int(show_shift(conn, principal, shift)["version"])
        )
        fields: dict[str, Any] = {
            "staff": staff,
            "version": seen,
            "reason": reason,
            "responsible": responsible,
        }
        if effective_at is not None:
            fields["effective_at"] = effective_at
        change = params.validate(ShiftStaffParams, fields)
        return change_shift_staff(conn, principal, shift, change, on=on)


def _shift_command(name: str, *, on: bool, help_text: str) -> click.Command:
    """`put-on` or `take-off`: the same options, one direction."""

    @click.command(name, help=help_text)
    @click.argument("shift_source_id")
    @click.argument("staff_source_id")
    @_with_change_options
    @format_option
    @pass_ctx
    @reports_errors
    def command(
        ctx: Context,
        shift_source_id: str,
        staff_source_id: str,
        effective_at: str | None,
        responsible: str,
        reason: str,
        version: int | None,
        fmt: str,
    ) -> None:
        done = _shift_change(
            ctx,
            shift_source_id,
            staff_source_id,
            effective_at=effective_at,
            responsible=responsible,
            reason=reason,
            version=version,
            on=on,
        )
        emit(done, fmt, render)

    return command


put_on_cmd = _shift_command(
    "put-on",
    on=True,
    help_text="Put STAFF_SOURCE_ID on shift SHIFT_SOURCE_ID from now or --effective-at "
    "(an event; audited).",
)
take_off_cmd = _shift_command(
    "take-off",
    on=False,
    help_text="Take STAFF_SOURCE_ID off shift SHIFT_SOURCE_ID from now or --effective-at "
    "(an event; audited).",
)


OWN_SHIFT_COMMANDS: dict[str, click.Command] = {"put-on": put_on_cmd, "take-off": take_off_cmd}
PEOPLE_SHIFTS = ("geodata.cli.people", "shifts_group")
"""The shifts' other commands (add, assign, rota...), merged into one `shifts` group."""


def _people_shifts() -> click.Group | None:
    try:
        module = importlib.import_module(PEOPLE_SHIFTS[0])
    except ImportError:
        return None
    found = getattr(module, PEOPLE_SHIFTS[1], None)
    return found if isinstance(found, click.Group) else None


class ShiftsGroup(click.Group):
    """`wangge shifts`: the command post's put-on and take-off, and the people commands'."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        other = _people_shifts()
        return sorted({*OWN_SHIFT_COMMANDS, *(other.list_commands(ctx) if other else ())})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in OWN_SHIFT_COMMANDS:
            return OWN_SHIFT_COMMANDS[cmd_name]
        other = _people_shifts()
        return other.get_command(ctx, cmd_name) if other else None


@click.group("shifts", cls=ShiftsGroup)
def shifts_group() -> None:
    """Checkpoint shifts and their people: put-on and take-off (the command post), and add,
    assign, rota... where the people commands are installed."""
