"""Publicity points requested by a principal: added by admins and commanders (their villages),
checked by them or by the grid workers of the point's village; listed for anyone who sees the
map, within their villages. Writes are audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from geodata.auth import audit
from geodata.auth.access import Action, ForbiddenError, Principal
from geodata.errors import NotFoundError
from geodata.records import publicity
from geodata.records.refusal import RecordRefused
from geodata.services.disinfection import villages_of
from geodata.services.enterprises import WRITTEN
from geodata.vocab import Role


def _now() -> datetime:
    return datetime.now(UTC)


def save_point(
    conn: Connection,
    principal: Principal,
    source_id: str,
    fields: publicity.PointFields,
    *,
    new: bool = True,
) -> tuple[str, int]:
    principal.require(Action.OPERATE)
    if new and publicity.exists(conn, source_id):
        raise RecordRefused(f"publicity point {source_id!r}: source_id: exists already")
    if not new:  # a point of the principal's villages, which it may not move out of them
        if not publicity.exists(conn, source_id):
            raise RecordRefused(f"publicity point {source_id!r}: source_id: no such point")
        villages = villages_of(conn, principal)
        if villages is not None and publicity.village_by_source(conn, source_id) not in villages:
            raise NotFoundError(f"publicity point {source_id!r}: not found")
    outcome, point_id = publicity.upsert(conn, source_id, fields, now=_now())
    villages = villages_of(conn, principal)
    if villages is not None and publicity.village_of(conn, point_id) not in villages:
        raise RecordRefused(f"publicity point {source_id!r}: village: not one of your villages")
    if outcome != "unchanged":
        audit.record(conn, actor=principal.name, action=f"publicity_point_{WRITTEN[outcome]}",
                     object_type="publicity_point", object_ids=[point_id], row_count=1)  # fmt: skip
    return outcome, point_id


def check(
    conn: Connection, principal: Principal, source_id: str, *, at: datetime | None = None
) -> int:
    """A check of the point, by commanders and admins or the grid workers of its village."""
    if principal.role is not Role.GRID_WORKER:
        principal.require(Action.OPERATE)
    villages = villages_of(conn, principal)
    if principal.role is Role.GRID_WORKER and not villages:
        raise ForbiddenError("grid_worker may not check publicity points without a grid")
    now = _now()
    row = publicity.check(conn, source_id, at=at or now, now=now)
    if villages is not None and row.village_id not in villages:
        raise NotFoundError(f"publicity point {source_id!r}: not found")
    audit.record(conn, actor=principal.name, action="publicity_check",
                 object_type="publicity_point", object_ids=[int(row.id)], row_count=1)  # fmt: skip
    return int(row.id)


def list_points(
    conn: Connection, principal: Principal, *, at: datetime | None = None,
    unchecked_only: bool = False,
) -> dict[str, Any]:  # fmt: skip
    principal.require(Action.VIEW_MAP)
    moment = at or _now()
    found = publicity.listed(conn, villages_of(conn, principal), at=moment,
                             unchecked_only=unchecked_only)  # fmt: skip
    return {"at": moment.isoformat(), "points": found}
