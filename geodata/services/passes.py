"""Passes requested by a principal: issued by admins and commanders for enterprises of their
villages (a commander names only residents of their grids: another's is as if unknown);
listed, masked, to those who see households, within their villages; names and ID numbers
revealed only with that right, audited. Planners and analysts see counts only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.disclosure.cellkey import CellKeys, load_secret, published
from geodata.disclosure.rules import controlled
from geodata.disclosure.snapshots import scope_key
from geodata.errors import NotFoundError
from geodata.records import enterprises, passes
from geodata.records.refusal import RecordRefused
from geodata.services.disinfection import villages_of
from geodata.services.enterprises import WRITTEN, town_today


def issue(
    conn: Connection, principal: Principal, number: str, fields: passes.PassFields
) -> tuple[str, int]:
    """Issue (or change) pass `number` for an enterprise of the principal's villages."""
    principal.require(Action.OPERATE)
    apply_scope(conn, principal)  # residents and their quarantines: the principal's grids
    ref = enterprises.ref(conn, fields.enterprise, f"pass {number!r}")
    villages = villages_of(conn, principal)
    if villages is not None and ref.village_id not in villages:
        raise NotFoundError(f"pass {number!r}: enterprise {fields.enterprise!r}: not found")
    held = conn.execute(  # a pass already issued stays with its villages
        text(
            "SELECT e.village_id FROM passes AS p JOIN enterprises AS e ON e.id = p.enterprise_id"
            " WHERE p.number = :n"
        ),
        {"n": number},
    ).scalar_one_or_none()
    if held is not None and villages is not None and held not in villages:
        raise NotFoundError(f"pass {number!r}: not found")
    if fields.resident and principal.grid_ids is not None:
        grid = conn.execute(
            text("SELECT grid_id FROM residents WHERE source_id = :s"), {"s": fields.resident}
        ).scalar_one_or_none()
        if not principal.covers(grid):  # another village's resident: as if unknown
            raise RecordRefused(f"pass {number!r}: resident: {fields.resident!r}: no such resident")
    outcome, pass_id = passes.upsert(conn, number, fields, actor=principal.name)
    if outcome != "unchanged":
        audit.record(conn, actor=principal.name, action=f"pass_{WRITTEN[outcome]}",
                     object_type="pass", object_ids=[pass_id], row_count=1)  # fmt: skip
    return outcome, pass_id


def list_passes(
    conn: Connection, principal: Principal, *, enterprise: str | None = None, reveal: bool = False
) -> list[dict[str, Any]]:
    """Passes in scope; `reveal` shows names and ID numbers (audited, by right)."""
    principal.require(Action.VIEW_HOUSEHOLDS)
    apply_scope(conn, principal)
    if reveal:
        principal.require(Action.REVEAL_PERSONAL)
    found = passes.listed(conn, villages_of(conn, principal), enterprise=enterprise, reveal=reveal)
    if reveal:
        audit.record(conn, actor=principal.name, action="reveal", object_type="pass",
                     object_ids=[p["id"] for p in found], row_count=len(found),
                     detail={"fields": ["name", "id_number"]})  # fmt: skip
    return found


def counts(conn: Connection, principal: Principal) -> dict[str, int | None]:
    """Passes in scope: issued, valid today, for residents; for planners and analysts
    withheld under 5, else randomly rounded to a multiple of 5."""
    principal.require(Action.VIEW_MAP)
    villages = villages_of(conn, principal)
    row = conn.execute(
        text(
            "SELECT count(*) AS passes, count(*) FILTER (WHERE :today BETWEEN p.valid_from"
            " AND p.valid_until) AS valid_today, count(p.resident_id) AS residents"
            " FROM passes AS p JOIN enterprises AS e ON e.id = p.enterprise_id"
            " WHERE CAST(:v AS bigint[]) IS NULL OR e.village_id = ANY(:v)"
        ),
        {"v": villages, "today": town_today(conn)},
    ).one()
    found: dict[str, int | None] = {
        "passes": row.passes, "valid_today": row.valid_today, "residents": row.residents
    }  # fmt: skip
    if controlled(principal):  # people counted: through the disclosure rules
        keys, day = CellKeys(load_secret(conn)), town_today(conn)
        cell = f"passes:{scope_key(principal.grid_ids)}"
        found = {k: published(v, keys.draw(cell, day, k)) for k, v in found.items()}
    return found
