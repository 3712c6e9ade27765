"""Supplies: the items (by code) and the holders (by source id) that ledger entries name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from geodata.identifiers import identifier_problem
from geodata.records.refusal import RecordRefused

TOWN_STORE = "town-store"
KIT = ("thermometer", "disinfectant", "brochure", "mask", "registration_form")
"""The "五个一" kit, predefined by the migration."""
HOLDER_TABLES = (
    ("team", "teams"),
    ("checkpoint", "checkpoints"),
    ("isolation_site", "isolation_sites"),
)
"""Where a holder's source id is looked up, in order (the town store is predefined)."""
_VILLAGE_SQL = {
    "team": "SELECT village_id FROM teams WHERE id = :r",
    "checkpoint": "SELECT village_id FROM checkpoints WHERE id = :r",
}


@dataclass(frozen=True)
class Holder:
    id: int
    source_id: str
    kind: str
    village_id: int | None
    """The village of a team or checkpoint (None: the town store, an isolation site)."""


def item_id(conn: Connection, code: str, *, record: str) -> int:
    found = conn.execute(
        text("SELECT id FROM supply_items WHERE code = :c"), {"c": code}
    ).scalar_one_or_none()
    if found is None:
        raise RecordRefused(f"{record}: item: {code!r}: no such item")
    return int(found)


def holder(conn: Connection, source_id: str, *, record: str, field: str) -> Holder:
    """The holder named by a source id: the town store, or a team, checkpoint or isolation
    site (registered as a holder when first named); refused when unknown or ambiguous."""
    row = conn.execute(
        text("SELECT id, kind, ref_id FROM supply_holders WHERE source_id = :s"), {"s": source_id}
    ).one_or_none()
    if row is None:
        found = [
            (kind, int(ref))
            for kind, table in HOLDER_TABLES
            for ref in conn.execute(
                text(f"SELECT id FROM {table} WHERE source_id = :s"),  # noqa: S608 (constant table names)
                {"s": source_id},
            ).scalars()
        ]
        if not found:
            raise RecordRefused(
                f"{record}: {field}: {source_id!r}: no such holder (town-store, a team,"
                " a checkpoint or an isolation site)"
            )
        if len(found) > 1:
            kinds = " and ".join(k for k, _ in found)
            raise RecordRefused(f"{record}: {field}: {source_id!r}: names both a {kinds}")
        kind, ref = found[0]
        conn.execute(
            text(
                "INSERT INTO supply_holders (source_id, kind, ref_id) VALUES (:s, :k, :r)"
                " ON CONFLICT (source_id) DO NOTHING"
            ),
            {"s": source_id, "k": kind, "r": ref},
        )
        row = conn.execute(
            text("SELECT id, kind, ref_id FROM supply_holders WHERE source_id = :s"),
            {"s": source_id},
        ).one()
    village = None
    if row.kind in _VILLAGE_SQL:
        village = conn.execute(text(_VILLAGE_SQL[row.kind]), {"r": row.ref_id}).scalar_one_or_none()
    return Holder(int(row.id), source_id, str(row.kind), None if village is None else int(village))


def add_item(conn: Connection, code: str, *, name: str, unit: str) -> int:
    """A new item; refused when the code is taken or not an identifier."""
    problem = identifier_problem(code)
    if problem is not None:
        raise RecordRefused(f"item: code: {problem}")
    if not unit.strip():
        raise RecordRefused(f"item {code!r}: unit: required")
    new = conn.execute(
        text(
            "INSERT INTO supply_items (code, name, unit) VALUES (:c, :n, :u)"
            " ON CONFLICT (code) DO NOTHING RETURNING id"
        ),
        {"c": code, "n": name or code, "u": unit.strip()},
    ).scalar_one_or_none()
    if new is None:
        raise RecordRefused(f"item {code!r}: code: already exists")
    return int(new)


def items(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(text("SELECT code, name, unit, kit FROM supply_items ORDER BY id"))
    return [dict(r) for r in rows.mappings()]
