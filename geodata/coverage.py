"""Coverage as a principal may see it: their grids only, listing audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from geodata import audit
from geodata.access import Action, Principal
from geodata.analysis.coverage import Level, coverage_report
from geodata.analysis.coverage.fetch import fetch_inputs
from geodata.rls import apply_scope


def coverage_for(
    conn: Connection,
    principal: Principal,
    *,
    as_of: datetime | None = None,
    radius_m: float | None = None,
    network: bool = False,
    level: Level = "grid",
    with_items: bool = False,
) -> dict[str, Any]:
    """The coverage report over the principal's grids (the town for town-wide principals).

    Town and village figures then sum only the grids in scope; items outside it are left
    out. Listing the items is recorded in the audit log (counts, never values).
    """
    principal.require(Action.VIEW_COVERAGE)
    apply_scope(conn, principal)
    inputs = fetch_inputs(conn, as_of=as_of, grid_ids=principal.grid_ids)
    report = coverage_report(
        inputs, radius_m=radius_m, network=network, level=level, with_items=with_items
    )
    if with_items:
        audit.record(
            conn,
            actor=principal.name,
            action="list",
            object_type="coverage",
            row_count=sum(len(v) for v in report["items"].values()),
            detail={"as_of": report["as_of"], "network": network},
        )
    return report
