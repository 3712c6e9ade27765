"""Households and residents as their grid workers and commanders see them: scoped, masked,
audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.masking import MASKS, PersonalField
from geodata.auth.rls import apply_scope
from geodata.errors import NotFoundError
from geodata.models import Base
from geodata.records.addresses import addresses

H = Base.metadata.tables["households"]
R = Base.metadata.tables["residents"]
G = Base.metadata.tables["grids"]
B = Base.metadata.tables["buildings"]


def _scoped_grid(conn: Connection, principal: Principal, grid_code: str) -> int:
    grid_id = conn.execute(select(G.c.id).where(G.c.code == grid_code)).scalar()
    if grid_id is None or not principal.covers(grid_id):
        raise NotFoundError(f"no grid {grid_code!r}")
    return int(grid_id)


def list_households(
    conn: Connection,
    principal: Principal,
    *,
    grid_code: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Households in scope (optionally of one grid): no personal values, only counts."""
    principal.require(Action.VIEW_HOUSEHOLDS)
    apply_scope(conn, principal)
    query = (
        select(
            H.c.id,
            H.c.source_id,
            G.c.code.label("grid"),
            B.c.source_id.label("building"),
            H.c.unit,
            H.c.room,
            H.c.members,
            H.c.status,
        )
        .join(G, G.c.id == H.c.grid_id)
        .outerjoin(B, B.c.id == H.c.building_id)
        .order_by(H.c.id)
        .limit(min(limit, 1000))
        .offset(offset)
    )
    if grid_code is not None:
        query = query.where(H.c.grid_id == _scoped_grid(conn, principal, grid_code))
    query = query.where(principal.in_scope(H.c.grid_id))
    rows = [dict(r) for r in conn.execute(query).mappings()]
    audit.record(
        conn,
        actor=principal.name,
        action="list",
        object_type="household",
        object_ids=[r["id"] for r in rows],
        row_count=len(rows),
        detail={"grid": grid_code} if grid_code else None,
    )
    return rows


def household_detail(conn: Connection, principal: Principal, household_id: int) -> dict[str, Any]:
    """One household with its residents, personal fields masked. Out of scope: not found."""
    principal.require(Action.VIEW_HOUSEHOLDS)
    apply_scope(conn, principal)
    row = (
        conn.execute(
            select(H, G.c.code.label("grid"))
            .join(G, G.c.id == H.c.grid_id)
            .where(H.c.id == household_id)
        )
        .mappings()
        .first()
    )
    if row is None or not principal.covers(row["grid_id"]):
        raise NotFoundError(f"no household {household_id}")
    residents = [
        {
            "id": r["id"],
            "name": MASKS[PersonalField.NAME](r["name"]),
            "id_number": MASKS[PersonalField.ID_NUMBER](r["id_number"]),
            "phone": MASKS[PersonalField.PHONE](r["phone"]),
            "returnee": r["returnee"],
            "close_contact": r["close_contact"],
            "fever": r["fever"],
            "quarantine_until": r["quarantine_until"],
        }
        for r in conn.execute(
            select(R).where(R.c.household_id == household_id).order_by(R.c.id)
        ).mappings()
    ]
    audit.record(
        conn,
        actor=principal.name,
        action="view",
        object_type="household",
        object_ids=[household_id],
        row_count=len(residents),
    )
    return {
        "id": row["id"],
        "source_id": row["source_id"],
        "grid": row["grid"],
        "address": addresses(conn, [household_id]).get(household_id, {}),
        "unit": row["unit"],
        "room": row["room"],
        "members": row["members"],
        "status": row["status"],
        "residents": residents,
    }


def reveal(
    conn: Connection, principal: Principal, resident_id: int, field: PersonalField
) -> str | None:
    """One personal field unmasked, for an authorised user in scope; audited."""
    principal.require(Action.REVEAL_PERSONAL)
    apply_scope(conn, principal)
    column = R.c[field.value]
    row = conn.execute(select(R.c.grid_id, column).where(R.c.id == resident_id)).first()
    if row is None or not principal.covers(row[0]):
        raise NotFoundError(f"no resident {resident_id}")
    audit.record(
        conn,
        actor=principal.name,
        action="reveal",
        object_type="resident",
        object_ids=[resident_id],
        row_count=1,
        detail={"field": field.value},
    )
    return None if row[1] is None else str(row[1])


def count_in_scope(conn: Connection, principal: Principal) -> int:
    apply_scope(conn, principal)
    return int(conn.execute(select(func.count()).select_from(H)).scalar_one())
