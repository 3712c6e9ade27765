"""`wangge supplies stock|post|reverse|low|threshold|donations|items`: the supplies and
donations ledger through `geodata.services.supplies` (admins and commanders write, audited).
Holders are source ids (`town-store`, teams, checkpoints, isolation sites); items are codes."""

from __future__ import annotations

import sys
import uuid
from datetime import date, datetime
from typing import Any

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.errors import ConfigError
from geodata.records.supplies_ledger import KINDS, Entry


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    raw = value.strip()
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        from geodata.town_time import TOWN_TIMEZONE

        moment = datetime.fromisoformat(raw)  # a moment: its day on the town's clock
        return (
            (moment if moment.tzinfo else moment.replace(tzinfo=TOWN_TIMEZONE))
            .astimezone(TOWN_TIMEZONE)
            .date()
        )
    except ValueError:
        raise ConfigError(f"{name}: not an ISO day (YYYY-MM-DD): {value!r}") from None


def parse_at(value: str | None, *, zone: Any) -> datetime:
    """An ISO 8601 moment; without an offset, town time; None: now."""
    if value is None:
        return datetime.now(zone)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"at: not an ISO 8601 date-time: {value!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def render_stock(data: dict[str, Any]) -> str:
    lines = [f"stock as of {data['as_of']}:"]
    lines += [f"  {r['holder']:<24} {r['item']:<20} {r['quantity']:>10}" for r in data["stock"]]
    return "\n".join(lines)


def render_low(data: dict[str, Any]) -> str:
    if not data["low"]:
        return f"no holder below its level on {data['as_of']}"
    return "\n".join(
        f"{r['holder']} {r['item']}: {r['quantity']} {r['unit']} (level {r['minimum']})"
        for r in data["low"]
    )


def render_donations(data: dict[str, Any]) -> str:
    lines = []
    for d in data["donations"]:
        lines.append(
            f"{d['date']} {d['donor']}: {d['quantity']} {d['item']} into {d['received_by']}"
            f" ({d['left_with_holder']} still there)"
        )
        lines += [f"    {w['quantity']} {w['kind']} {w['to'] or ''} {w['at']}" for w in d["went"]]
    return "\n".join(lines) or "no donations"


@click.group("supplies")
def supplies_group() -> None:
    """Supplies and donations: one ledger of receipts, transfers, uses and reversals."""


@supplies_group.command("stock")
@click.option(
    "--as-of", "as_of", metavar="DAY", default=None, help="a town-time day (default today)"
)
@click.option("--holder", metavar="SOURCE_ID", default=None, help="one holder only")
@format_option
@pass_ctx
@reports_errors
def stock_cmd(ctx: Context, as_of: str | None, holder: str | None, fmt: str) -> None:
    """Stock per holder and item at the end of a day: the sum of the ledger's entries."""
    from geodata.services.supplies import stock

    principal = ctx.acting(Action.VIEW_MAP)
    day = _day(as_of, "as-of")
    with ctx.admin_engine.begin() as conn:
        emit(stock(conn, principal, day=day, holder_id=holder), fmt, render_stock)


@supplies_group.command("post")
@click.option("--id", "source_id", metavar="SOURCE_ID", default=None, help="default: a new one")
@click.option("--kind", type=click.Choice([k for k in KINDS if k != "reversal"]), required=True)
@click.option("--item", required=True, metavar="CODE")
@click.option("--quantity", type=int, required=True)
@click.option("--from", "from_holder", metavar="HOLDER", default=None, help="transfer, use")
@click.option("--to", "to_holder", metavar="HOLDER", default=None, help="receipt, transfer")
@click.option("--donor", default=None, help="a receipt given by a donor (else a purchase)")
@click.option("--at", "at", metavar="DATETIME", default=None, help="when (default now)")
@format_option
@pass_ctx
@reports_errors
def post_cmd(
    ctx: Context,
    source_id: str | None,
    kind: str,
    item: str,
    quantity: int,
    from_holder: str | None,
    to_holder: str | None,
    donor: str | None,
    at: str | None,
    fmt: str,
) -> None:
    """Post a receipt, transfer or use; refused (exit 1) when it would leave a holder below
    zero on any day from its date on."""
    from geodata.records.town_settings import town_timezone
    from geodata.services.supplies import post_entries

    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        entry = Entry(
            source_id=source_id or f"cli:{uuid.uuid4()}",
            kind=kind,
            item=item,
            quantity=quantity,
            from_holder=from_holder,
            to_holder=to_holder,
            donor=donor,
            at=parse_at(at, zone=town_timezone(conn)),
        )
        emit(post_entries(conn, principal, [entry]), fmt)


@supplies_group.command("reverse")
@click.argument("entry")
@click.option("--reason", required=True)
@click.option("--id", "source_id", metavar="SOURCE_ID", default=None, help="default: a new one")
@click.option("--at", "at", metavar="DATETIME", default=None, help="when (default now)")
@format_option
@pass_ctx
@reports_errors
def reverse_cmd(
    ctx: Context, entry: str, reason: str, source_id: str | None, at: str | None, fmt: str
) -> None:
    """Reverse the posted entry ENTRY (its source id), with a reason."""
    from geodata.records.town_settings import town_timezone
    from geodata.services.supplies import post_entries

    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        reversal = Entry(
            source_id=source_id or f"cli:{uuid.uuid4()}",
            kind="reversal",
            reverses=entry,
            reason=reason,
            at=parse_at(at, zone=town_timezone(conn)),
        )
        emit(post_entries(conn, principal, [reversal]), fmt)


@supplies_group.command("low")
@click.option(
    "--as-of", "as_of", metavar="DAY", default=None, help="a town-time day (default today)"
)
@format_option
@pass_ctx
@reports_errors
def low_cmd(ctx: Context, as_of: str | None, fmt: str) -> None:
    """Holders below their low-stock level of an item."""
    from geodata.services.supplies import low_stock

    principal = ctx.acting(Action.VIEW_MAP)
    day = _day(as_of, "as-of")
    with ctx.admin_engine.begin() as conn:
        emit(low_stock(conn, principal, day=day), fmt, render_low)


@supplies_group.command("threshold")
@click.argument("holder")
@click.argument("item")
@click.argument("minimum", type=int)
@pass_ctx
@reports_errors
def threshold_cmd(ctx: Context, holder: str, item: str, minimum: int) -> None:
    """Set HOLDER's low-stock level of ITEM (0: never low)."""
    from geodata.services.supplies import set_threshold

    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        set_threshold(conn, principal, holder, item, minimum)
    click.echo(f"{holder} {item}: low below {minimum}")


@supplies_group.command("donations")
@click.option("--from", "start", metavar="DAY", default=None)
@click.option("--to", "end", metavar="DAY", default=None)
@format_option
@pass_ctx
@reports_errors
def donations_cmd(ctx: Context, start: str | None, end: str | None, fmt: str) -> None:
    """Donations received: donor, item, quantity, date, and where they went."""
    from geodata.services.supplies import donations

    principal = ctx.acting(Action.OPERATE)
    first, last = _day(start, "from"), _day(end, "to")
    with ctx.admin_engine.begin() as conn:
        emit(donations(conn, principal, start=first, end=last), fmt, render_donations)


@supplies_group.command("verify")
@format_option
@pass_ctx
@reports_errors
def verify_cmd(ctx: Context, fmt: str) -> None:
    """Check that each holder and item's month totals equal the sums of their entries; exit 1
    naming the months that do not."""
    from geodata.services.supplies import verify

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        found = verify(conn, principal)
    emit(found, fmt, lambda d: "month totals equal the sums of the entries" if d["ok"] else
         "\n".join(f"holder {m['holder_id']} item {m['item_id']} {m['month']}: total"
                   f" {m['total']}, entries {m['entries']}" for m in d["mismatches"]))  # fmt: skip
    if not found["ok"]:
        sys.exit(1)


@supplies_group.group("items")
def items_group() -> None:
    """Items and their units (the "五个一" kit is predefined)."""


@items_group.command("list")
@format_option
@pass_ctx
@reports_errors
def items_list(ctx: Context, fmt: str) -> None:
    from geodata.services.supplies import list_items

    principal = ctx.acting(Action.VIEW_MAP)
    with ctx.admin_engine.begin() as conn:
        found = list_items(conn, principal)
    emit(
        found, fmt, lambda rows: "\n".join(f"{r['code']} ({r['unit']}): {r['name']}" for r in rows)
    )


@items_group.command("add")
@click.argument("code")
@click.option("--unit", required=True)
@click.option("--name", default="")
@pass_ctx
@reports_errors
def items_add(ctx: Context, code: str, unit: str, name: str) -> None:
    """A new item CODE with its unit (admins)."""
    from geodata.services.supplies import new_item

    principal = ctx.acting(Action.MANAGE_TOWN)
    with ctx.admin_engine.begin() as conn:
        new_item(conn, principal, code, name=name, unit=unit)
    click.echo(f"item {code} ({unit})")
