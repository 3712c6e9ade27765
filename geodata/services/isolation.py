"""Isolation beds through a principal: admins and commanders (the command post) see the
proposal of who goes to which bed and apply it, commanders for the people of their villages'
grids only; whoever sees the map sees the beds free per site. The proposal names people
(by source id): it is audited as a view, and an apply as a change, by ids only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.records import isolation as records


def _detail(proposal: records.Proposal) -> dict[str, Any]:
    return {
        "keep_families": proposal.keep_families,
        "use_reserve": proposal.use_reserve,
        "status": proposal.status,
        "placed": len(proposal.placements),
        "unplaced": len(proposal.unplaced),
    }


def _quarantines(proposal: records.Proposal) -> list[int]:
    """The quarantines of everyone the proposal names, placed or not."""
    return sorted([p.quarantine_id for p in proposal.placements] + proposal.unplaced_quarantines)


def proposal(
    conn: Connection, principal: Principal, *, keep_families: bool = False,
    use_reserve: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Who of the principal's grids would go to which bed now; nothing is written but the
    audit event (the quarantines of the people it names)."""
    principal.require(Action.OPERATE)
    apply_scope(conn, principal)
    found = records.propose(
        conn, grid_ids=principal.grid_ids, keep_families=keep_families, use_reserve=use_reserve
    )
    audit.record(conn, actor=principal.name, action="isolation_proposal",
                 object_type="quarantine", object_ids=_quarantines(found),
                 row_count=len(found.placements) + len(found.unplaced),
                 detail=_detail(found))  # fmt: skip
    return found.public()


def apply(
    conn: Connection, principal: Principal, *, keep_families: bool = False,
    use_reserve: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """The proposal made again under the sites' lock and written as bed assignments (from
    now); a bed or person taken meanwhile by another writer is a ConflictError (409)."""
    principal.require(Action.OPERATE)
    apply_scope(conn, principal)
    done = records.apply(
        conn,
        actor=principal.name,
        grid_ids=principal.grid_ids,
        keep_families=keep_families,
        use_reserve=use_reserve,
    )
    audit.record(conn, actor=principal.name, action="isolation_assign",
                 object_type="bed_assignment", object_ids=done.assignment_ids,
                 row_count=len(done.assignment_ids), detail=_detail(done))  # fmt: skip
    return done.public() | {"applied": True, "assignment_ids": done.assignment_ids}


def beds(conn: Connection, principal: Principal, *, at: datetime | None = None) -> dict[str, Any]:
    """Every site's beds, taken and free, now or at a past moment (counts, no person)."""
    principal.require(Action.VIEW_MAP)
    apply_scope(conn, principal)
    moment = records.moment(conn, at)
    return {
        "at": moment.isoformat(),
        "sites": [s.public() for s in records.beds_at(conn, moment)],
    }
