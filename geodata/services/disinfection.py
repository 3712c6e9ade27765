"""Disinfection requested by a principal: places added by admins and commanders (`operate`),
rounds logged by them or by the grid workers of the place's village, never in the future;
the overdue list and compliance for anyone who sees the map, within their villages. Writes
are audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, ForbiddenError, Principal
from geodata.errors import NotFoundError
from geodata.records import disinfection as records
from geodata.records.refusal import RecordRefused
from geodata.vocab import Role


def _now() -> datetime:
    return datetime.now(UTC)


def villages_of(conn: Connection, principal: Principal) -> list[int] | None:
    """The villages of the principal's grids (None: the town)."""
    if principal.grid_ids is None:
        return None
    return list(
        conn.execute(
            text("SELECT DISTINCT village_id FROM grids WHERE id = ANY(:g) ORDER BY 1"),
            {"g": sorted(principal.grid_ids)},
        ).scalars()
    )


def add_place(conn: Connection, principal: Principal, source_id: str, **fields: Any) -> int:
    principal.require(Action.OPERATE)
    new_id = records.add_place(conn, source_id, **fields)
    villages = villages_of(conn, principal)
    village = conn.execute(
        text("SELECT village_id FROM disinfection_places WHERE id = :i"), {"i": new_id}
    ).scalar_one()
    if villages is not None and village not in villages:
        raise RecordRefused(f"disinfection place {source_id!r}: village: not one of your villages")
    audit.record(conn, actor=principal.name, action="disinfection_place_add",
                 object_type="disinfection_place", object_ids=[new_id], row_count=1)  # fmt: skip
    return new_id


def log_round(
    conn: Connection,
    principal: Principal,
    place: str,
    *,
    at: datetime | None,
    staff: str | None,
    agent: str,
    source_id: str | None = None,
) -> int:
    """A round of `place`, by commanders and admins or the grid workers of its village."""
    if principal.role is not Role.GRID_WORKER:
        principal.require(Action.OPERATE)
    ref = records.place_ref(conn, place)
    villages = villages_of(conn, principal)
    if villages is not None and ref.village_id not in villages:
        if principal.role is Role.GRID_WORKER and not villages:
            raise ForbiddenError("grid_worker may not log rounds without a grid")
        raise NotFoundError(f"disinfection place {place!r}: not found")
    now = _now()
    new_id = records.add_round(
        conn, int(ref.id), at=at or now, staff=staff, agent=agent,
        recorded_by=principal.name, now=now, source_id=source_id,
    )  # fmt: skip
    audit.record(conn, actor=principal.name, action="disinfection_round_add",
                 object_type="disinfection_round", object_ids=[new_id], row_count=1,
                 detail={"place": place})  # fmt: skip
    return new_id


def overdue(conn: Connection, principal: Principal, at: datetime | None = None) -> dict[str, Any]:
    principal.require(Action.VIEW_MAP)
    moment = at or _now()
    found = records.overdue(conn, moment, villages_of(conn, principal))
    return {"at": moment.isoformat(), "overdue": found}


def compliance(conn: Connection, principal: Principal, day: datetime) -> dict[str, Any]:
    principal.require(Action.VIEW_MAP)
    rows = records.compliance(conn, day, villages_of(conn, principal), now=_now())
    return {"places": rows}


def list_places(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    principal.require(Action.VIEW_MAP)
    return records.places(conn, villages_of(conn, principal))
