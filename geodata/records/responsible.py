"""The person responsible for a village, grid, compound or building, as a viewer may see them.

Names and phones of staff are personal data. A viewer whose role may see people
(`REVEAL_PERSONAL` or `VIEW_HOUSEHOLDS`: commanders, grid workers, admins) gets the name and
the phone masked, for objects in their scope only; any other viewer gets whether someone is
assigned, never who. An object outside the scope is not found. Every answer that names
someone is audited (which staff rows, never the values); nothing here is logged.

An object is in scope when one of its grids is: a village's grids, a compound's (the grids
of its buildings and the grid under a point of its outline), a building's grid (or the grid
under it when it names none), the grid itself: the rule the command post applies to a
village's entrances and checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.masking import mask_phone
from geodata.errors import NotFoundError
from geodata.vocab import StaffRole

ASSIGNED = "assigned"
NONE = "none"
RETIRED = "retired"
"""A person is named but has stopped serving: nobody is responsible now."""


@dataclass(frozen=True)
class Level:
    """One level of the grid and the column naming its responsible person."""

    table: str
    column: str
    role: StaffRole
    grids_sql: str
    """The object's grids (the object is aliased `o`)."""


LEVELS: dict[str, Level] = {
    "villages": Level(
        "villages",
        "secretary_id",
        StaffRole.VILLAGE_SECRETARY,
        "ARRAY(SELECT g.id FROM grids AS g WHERE g.village_id = o.id)",
    ),
    "grids": Level("grids", "leader_id", StaffRole.GRID_LEADER, "ARRAY[o.id]"),
    "compounds": Level(
        "compounds",
        "head_id",
        StaffRole.YARD_HEAD,
        "ARRAY(SELECT b.grid_id FROM buildings AS b"
        " WHERE b.compound_id = o.id AND b.grid_id IS NOT NULL"
        " UNION SELECT g.id FROM grids AS g"
        " WHERE ST_Intersects(g.geom, ST_PointOnSurface(o.geom)))",
    ),
    "buildings": Level(
        "buildings",
        "head_id",
        StaffRole.BUILDING_HEAD,
        "ARRAY(SELECT o.grid_id WHERE o.grid_id IS NOT NULL"
        " UNION SELECT g.id FROM grids AS g"
        " WHERE o.grid_id IS NULL AND ST_Intersects(g.geom, ST_PointOnSurface(o.geom)))",
    ),
}
"""By the name of the map layer that draws the level."""


def sees_people(principal: Principal) -> bool:
    """Whether the role may see who is responsible (in scope): commanders, grid workers,
    admins; planners and analysts may not."""
    return principal.can(Action.REVEAL_PERSONAL) or principal.can(Action.VIEW_HOUSEHOLDS)


def _covers_any(principal: Principal, grid_ids: Sequence[int] | None) -> bool:
    return principal.town_wide or any(principal.covers(g) for g in grid_ids or ())


def _person(row: Any, *, named: bool) -> dict[str, Any]:
    if row.staff_id is None:
        return {"status": NONE}
    if row.retired_at is not None:
        return {"status": RETIRED}
    if not named:
        return {"status": ASSIGNED}
    return {"status": ASSIGNED, "name": row.name, "phone": mask_phone(row.phone)}


def _rows_sql(level: Level, where: str, *, more: str = "", order: str = "o.id") -> str:
    """The objects `where` says with their person (staff_id, name, phone, retired_at) and
    their grids (grid_ids); `more`: other columns of the object."""
    return f"""
        SELECT o.id, {more} s.id AS staff_id, s.name, s.phone, s.retired_at,
               {level.grids_sql} AS grid_ids
        FROM {level.table} AS o
        LEFT JOIN staff AS s ON s.id = o.{level.column}
        WHERE {where}
        ORDER BY {order}
    """  # noqa: S608 (tables, columns and conditions are this module's constants)


def _audit_named(
    conn: Connection, principal: Principal, staff_ids: list[int], action: str, of: str
) -> None:
    if staff_ids:
        audit.record(
            conn,
            actor=principal.name,
            action=action,
            object_type="staff",
            object_ids=staff_ids,
            row_count=len(staff_ids),
            detail={"responsible_for": of},
        )


def responsible_for(
    conn: Connection, principal: Principal, layer: str, object_id: int
) -> dict[str, Any]:
    """`{"role", "status"}` of the object's responsible person, with `name` and `phone`
    (masked) for a viewer who may see people. Unknown or out of scope: NotFoundError."""
    level = LEVELS.get(layer)
    if level is None:
        raise NotFoundError(f"no layer {layer!r} with responsible people")
    row = conn.execute(text(_rows_sql(level, "o.id = :id")), {"id": object_id}).first()
    if row is None or not _covers_any(principal, row.grid_ids):
        raise NotFoundError(f"no {layer} {object_id}")
    person = _person(row, named=sees_people(principal))
    if "name" in person:
        _audit_named(conn, principal, [int(row.staff_id)], "view", level.table)
    return {"role": level.role.value, **person}


def building_at(
    conn: Connection, principal: Principal, lon: float, lat: float
) -> dict[str, Any] | None:
    """The smallest building in scope under a point, `{"id", "name", "floors", "head"}`
    (`head` as `responsible_for` gives it); None when there is none."""
    level = LEVELS["buildings"]
    rows = conn.execute(
        text(
            _rows_sql(
                level,
                "ST_Intersects(o.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))",
                more="o.name AS building_name, o.floors,",
                order="ST_Area(o.geom), o.id",
            )
        ),
        {"lon": lon, "lat": lat},
    ).all()
    found = next((r for r in rows if _covers_any(principal, r.grid_ids)), None)
    if found is None:
        return None
    head = _person(found, named=sees_people(principal))
    if "name" in head:
        _audit_named(conn, principal, [int(found.staff_id)], "view", level.table)
    return {
        "id": int(found.id),
        "name": found.building_name,
        "floors": found.floors,
        "head": {"role": level.role.value, **head},
    }


def grid_leaders(
    conn: Connection, principal: Principal, codes: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The leader of each grid named (by code) that is in scope, as `responsible_for` gives
    them without the role; one audit event for all the people named."""
    level = LEVELS["grids"]
    rows = conn.execute(
        text(
            _rows_sql(level, "o.code = ANY(CAST(:codes AS text[]))", more="o.code,", order="o.code")
        ),
        {"codes": list(codes)},
    ).all()
    named = sees_people(principal)
    leaders: dict[str, dict[str, Any]] = {}
    shown: list[int] = []
    for row in rows:
        if not _covers_any(principal, row.grid_ids):
            continue
        leaders[str(row.code)] = _person(row, named=named)
        if "name" in leaders[str(row.code)]:
            shown.append(int(row.staff_id))
    _audit_named(conn, principal, shown, "list", level.table)
    return leaders
