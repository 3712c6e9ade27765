"""Supervision (督导) requested by a principal holding `supervise` (commanders for their
villages' checkpoints, or the town; admins): inspections, rectification items, the overdue
list. Every read and write is audited; a checkpoint or item outside the scope is not found;
a stale version is refused with the item as it is now."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.errors import NotFoundError
from geodata.params.supervision import (
    InspectionParams,
    RectificationParams,
    RectificationStepParams,
)
from geodata.records import supervision as records
from geodata.records.town_settings import town_timezone
from geodata.services.operations import StaleVersion


def village_scope(conn: Connection, principal: Principal) -> list[int] | None:
    """The villages whose checkpoints the principal supervises (None: the town)."""
    principal.require(Action.SUPERVISE)
    if principal.grid_ids is None:
        return None
    return list(
        conn.execute(
            text("SELECT DISTINCT village_id FROM grids WHERE id = ANY(:g) ORDER BY 1"),
            {"g": sorted(principal.grid_ids)},
        ).scalars()
    )


def _checkpoint(conn: Connection, villages: list[int] | None, source_id: str) -> Any:
    row = records.checkpoint_ref(conn, source_id)
    if villages is not None and row.village_id not in villages:
        raise NotFoundError(f"checkpoint {source_id!r}: not found")
    return row


def _now() -> datetime:
    return datetime.now(UTC)


def day_bounds(conn: Connection, day: datetime | None = None) -> tuple[datetime, datetime]:
    """The town-time day holding `day` (default now) as [start, end)."""
    zone = town_timezone(conn)
    local = (day or _now()).astimezone(zone).date()
    start = datetime.combine(local, time(), tzinfo=zone)
    return start, start + timedelta(days=1)


def add_inspection(conn: Connection, principal: Principal, params: InspectionParams) -> int:
    villages = village_scope(conn, principal)
    cp = _checkpoint(conn, villages, params.checkpoint)
    inspector = records.staff_ref(conn, params.inspector, field="inspector")
    checklist = {name: bool(getattr(params, name)) for name in records.CHECKLIST}
    new_id = records.add_inspection(
        conn,
        checkpoint_id=int(cp.id),
        inspector_id=inspector,
        at=params.at or _now(),
        checklist=checklist,
        notes=params.notes,
    )
    audit.record(
        conn,
        actor=principal.name,
        action="inspection_add",
        object_type="inspection",
        object_ids=[new_id],
        row_count=1,
        detail={"checkpoint": cp.source_id},
    )
    return new_id


def list_inspections(
    conn: Connection, principal: Principal, day: datetime | None = None
) -> dict[str, Any]:
    """A day's inspections (default today) and the active checkpoints not inspected."""
    villages = village_scope(conn, principal)
    start, end = day_bounds(conn, day)
    found = records.inspections(conn, villages, start, end)
    missing = records.not_inspected(conn, villages, start, end)
    audit.record(
        conn,
        actor=principal.name,
        action="inspection_list",
        object_type="inspection",
        object_ids=[int(r["id"]) for r in found],
        row_count=len(found),
        detail={"day": start.date().isoformat()},
    )
    return {"day": start.date().isoformat(), "inspections": found, "not_inspected": missing}


def add_rectification(
    conn: Connection, principal: Principal, params: RectificationParams
) -> dict[str, Any]:
    villages = village_scope(conn, principal)
    cp = _checkpoint(conn, villages, params.checkpoint)
    owner = records.staff_ref(conn, params.owner, field="owner")
    new_id = records.add_rectification(
        conn,
        checkpoint_id=int(cp.id),
        inspection_id=params.inspection,
        description=params.description,
        owner_id=owner,
        deadline=params.deadline,
    )
    audit.record(
        conn,
        actor=principal.name,
        action="rectification_add",
        object_type="rectification",
        object_ids=[new_id],
        row_count=1,
        detail={"checkpoint": cp.source_id},
    )
    return _shown(conn, villages, new_id)


def _shown(conn: Connection, villages: list[int] | None, item_id: int) -> dict[str, Any]:
    item = records.rectification(conn, item_id)
    if item is None or (villages is not None and item["village_id"] not in villages):
        raise NotFoundError(f"rectification {item_id}: not found")
    item.pop("village_id")
    return item


def step(
    conn: Connection,
    principal: Principal,
    item_id: int,
    params: RectificationStepParams,
    *,
    verify: bool,
) -> dict[str, Any]:
    """An item fixed (or verified): the item as it is after, or StaleVersion with it as it
    is now."""
    villages = village_scope(conn, principal)
    _shown(conn, villages, item_id)
    by = records.staff_ref(conn, params.by, field="verified_by" if verify else "fixed_by")
    act = records.verify if verify else records.fix
    if not act(conn, item_id, by=by, at=params.at or _now(), version=params.version):
        current = _shown(conn, villages, item_id)
        raise StaleVersion(
            f"rectification {item_id}: version: {params.version} is stale"
            f" (now {current['version']})",
            current,
        )
    audit.record(
        conn,
        actor=principal.name,
        action="rectification_verify" if verify else "rectification_fix",
        object_type="rectification",
        object_ids=[item_id],
        row_count=1,
    )
    return _shown(conn, villages, item_id)


def list_rectifications(
    conn: Connection,
    principal: Principal,
    *,
    status: str | None = None,
    overdue_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Items in scope (all, of one status, or overdue at a moment)."""
    villages = village_scope(conn, principal)
    items = records.rectifications(conn, villages, status=status, overdue_at=overdue_at)
    audit.record(
        conn,
        actor=principal.name,
        action="rectification_list",
        object_type="rectification",
        object_ids=[int(i["id"]) for i in items],
        row_count=len(items),
        detail={"overdue": overdue_at is not None},
    )
    return items


def overdue(
    conn: Connection, principal: Principal, at: datetime | None = None
) -> list[dict[str, Any]]:
    """Open or fixed-not-verified items past their deadline at `at` (default now)."""
    return list_rectifications(conn, principal, overdue_at=at or _now())
