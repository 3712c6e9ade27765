"""Passes requested by a principal: issued by admins and commanders for enterprises of their
villages; listed, masked, to those who see households, within their villages; names and ID
numbers revealed only with that right, audited. Planners and analysts see counts only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.errors import NotFoundError
from geodata.records import enterprises, passes
from geodata.services.disinfection import villages_of
from geodata.services.enterprises import town_today


def issue(
    conn: Connection, principal: Principal, number: str, fields: passes.PassFields
) -> tuple[str, int]:
    """Issue (or change) pass `number` for an enterprise of the principal's villages."""
    principal.require(Action.OPERATE)
    ref = enterprises.ref(conn, fields.enterprise, f"pass {number!r}")
    villages = villages_of(conn, principal)
    if villages is not None and ref.village_id not in villages:
        raise NotFoundError(f"pass {number!r}: enterprise {fields.enterprise!r}: not found")
    outcome, pass_id = passes.upsert(conn, number, fields, actor=principal.name)
    if outcome != "unchanged":
        audit.record(conn, actor=principal.name, action=f"pass_{outcome[:-2]}",
                     object_type="pass", object_ids=[pass_id], row_count=1)  # fmt: skip
    return outcome, pass_id


def list_passes(
    conn: Connection, principal: Principal, *, enterprise: str | None = None, reveal: bool = False
) -> list[dict[str, Any]]:
    """Passes in scope; `reveal` shows names and ID numbers (audited, by right)."""
    principal.require(Action.VIEW_HOUSEHOLDS)
    if reveal:
        principal.require(Action.REVEAL_PERSONAL)
    found = passes.listed(conn, villages_of(conn, principal), enterprise=enterprise, reveal=reveal)
    if reveal:
        audit.record(conn, actor=principal.name, action="reveal", object_type="pass",
                     object_ids=[p["id"] for p in found], row_count=len(found),
                     detail={"fields": ["name", "id_number"]})  # fmt: skip
    return found


def counts(conn: Connection, principal: Principal) -> dict[str, int]:
    """Passes in scope: issued, valid today, for residents and for others."""
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
    return {"passes": row.passes, "valid_today": row.valid_today, "residents": row.residents}
