"""Supplies and donations requested by a principal: admins and commanders (`operate`) write
the ledger and the low-stock levels, audited; a commander with villages names only the teams
and checkpoints of those villages (the town store and isolation sites are the town's). Stock
and low stock are read by anyone who sees the map; the donations report by those who write."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.records import supplies_stock as stock_records
from geodata.records.refusal import RecordRefused
from geodata.records.supplies_ledger import Entry, post
from geodata.records.supplies_refs import add_item, holder, items
from geodata.records.town_settings import town_timezone


def today(conn: Connection) -> date:
    return datetime.now(UTC).astimezone(town_timezone(conn)).date()


def _villages(conn: Connection, principal: Principal) -> set[int] | None:
    if principal.grid_ids is None:
        return None
    return set(
        conn.execute(
            text("SELECT DISTINCT village_id FROM grids WHERE id = ANY(:g)"),
            {"g": sorted(principal.grid_ids)},
        ).scalars()
    )


def _in_scope(conn: Connection, principal: Principal, entry: Entry) -> None:
    villages = _villages(conn, principal)
    if villages is None:
        return
    record = f"ledger entry {entry.source_id!r}"
    for field in ("from_holder", "to_holder"):
        name = getattr(entry, field)
        if not name:
            continue
        found = holder(conn, name, record=record, field=field)
        if found.village_id is None or found.village_id not in villages:
            raise RecordRefused(f"{record}: {field}: {name!r}: not a holder of your villages")
    if entry.kind == "reversal" and entry.reverses:
        owners = conn.execute(
            text(
                "SELECT h.source_id FROM ledger_entries AS e JOIN supply_holders AS h"
                " ON h.id IN (e.from_holder_id, e.to_holder_id) WHERE e.source_id = :s"
            ),
            {"s": entry.reverses},
        ).scalars()
        for name in owners:
            found = holder(conn, name, record=record, field="reverses")
            if found.village_id is None or found.village_id not in villages:
                raise RecordRefused(f"{record}: reverses: names {name!r}, not of your villages")


def post_entries(
    conn: Connection, principal: Principal, entries: Iterable[Entry]
) -> dict[str, list[str]]:
    """Post entries in order, all or nothing (the caller's transaction): the source ids
    inserted and those already posted unchanged."""
    principal.require(Action.OPERATE)
    done: dict[str, list[str]] = {"inserted": [], "unchanged": []}
    for entry in entries:
        _in_scope(conn, principal, entry)
        outcome, source_id = post(conn, entry, posted_by=principal.name)
        done[outcome].append(source_id)
    if done["inserted"]:
        ids = conn.execute(
            text("SELECT id FROM ledger_entries WHERE source_id = ANY(:s) ORDER BY id"),
            {"s": done["inserted"]},
        ).scalars()
        audit.record(
            conn,
            actor=principal.name,
            action="ledger_post",
            object_type="ledger_entry",
            object_ids=[int(i) for i in ids],
            row_count=len(done["inserted"]),
        )
    return done


def stock(
    conn: Connection, principal: Principal, *, day: date | None = None, holder_id: str | None = None
) -> dict[str, Any]:
    principal.require(Action.VIEW_MAP)
    as_of = day or today(conn)
    rows = stock_records.stock(conn, as_of, holder_source_id=holder_id)
    return {"as_of": as_of.isoformat(), "stock": rows}


def low_stock(conn: Connection, principal: Principal, *, day: date | None = None) -> dict[str, Any]:
    principal.require(Action.VIEW_MAP)
    as_of = day or today(conn)
    return {"as_of": as_of.isoformat(), "low": stock_records.low_stock(conn, as_of)}


def set_threshold(
    conn: Connection, principal: Principal, holder_id: str, item: str, minimum: int
) -> None:
    principal.require(Action.OPERATE)
    villages = _villages(conn, principal)
    record = f"threshold {holder_id}/{item}"
    found = holder(conn, holder_id, record=record, field="holder")
    if villages is not None and (found.village_id is None or found.village_id not in villages):
        raise RecordRefused(f"{record}: holder: {holder_id!r}: not a holder of your villages")
    stock_records.set_threshold(conn, holder_id, item, minimum)
    audit.record(
        conn,
        actor=principal.name,
        action="supply_threshold_set",
        object_type="supply_threshold",
        row_count=1,
        detail={"holder": holder_id, "item": item, "minimum": minimum},
    )


def donations(
    conn: Connection, principal: Principal, *, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    principal.require(Action.OPERATE)
    found = stock_records.donations(conn, start, end)
    audit.record(
        conn,
        actor=principal.name,
        action="donations_report",
        object_type="ledger_entry",
        row_count=len(found),
    )
    return {"donations": found}


def list_items(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    principal.require(Action.VIEW_MAP)
    return items(conn)


def new_item(conn: Connection, principal: Principal, code: str, *, name: str, unit: str) -> int:
    principal.require(Action.MANAGE_TOWN)
    new_id = add_item(conn, code, name=name, unit=unit)
    audit.record(
        conn,
        actor=principal.name,
        action="supply_item_add",
        object_type="supply_item",
        object_ids=[new_id],
        row_count=1,
    )
    return new_id


def verify(conn: Connection, principal: Principal) -> dict[str, Any]:
    """Whether every month total equals the sum of its entries (the mismatches if not)."""
    principal.require(Action.VIEW_MAP)
    drifted = stock_records.verify_totals(conn)
    return {"ok": not drifted, "mismatches": drifted}
