"""Screening campaigns through a principal: admins (the town) and commanders (grids of their
villages only) create them; their progress is read by whoever may see coverage, scoped to
the principal's grids. Progress is figures about people: principals who may see households
(admins, commanders, grid workers) get the exact figures of their grids; planners and
analysts get them through the disclosure rules (each count under 5 withheld with a second
cell where a total would give it back, the rest rounded to a multiple of 5, a closed day
frozen), and `behind_pace` computed from the published figures. Creating a campaign and
reading its progress are audited (counts, never people)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from geodata.auth import audit
from geodata.auth.access import Action, ForbiddenError, Principal
from geodata.auth.rls import apply_scope
from geodata.disclosure.report import fixed_as_of
from geodata.disclosure.rules import controlled
from geodata.disclosure.snapshots import publish, scope_key
from geodata.disclosure.tables import CountTable, Unit
from geodata.errors import NotFoundError
from geodata.records import campaigns as records
from geodata.records.campaigns import NewCampaign
from geodata.records.town_settings import town_timezone


def _public(campaign: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in campaign.items() if k != "grid_ids"}


def add(conn: Connection, principal: Principal, new: NewCampaign) -> dict[str, Any]:
    """A new campaign; a commander's scope must lie within the grids of their villages (a
    village or grid outside them is refused, named)."""
    principal.require(Action.OPERATE)
    checked = records.check(conn, new)
    if principal.grid_ids is not None:
        mine = principal.grid_ids
        outside = [
            (code, village)
            for gid, code, village in zip(
                checked.grid_ids, checked.grid_codes, checked.grid_villages, strict=True
            )
            if gid not in mine
        ]
        if outside:
            field = "villages" if new.villages is not None else "grids"
            named = sorted({v if field == "villages" else c for c, v in outside})
            raise ForbiddenError(
                f"campaign {checked.name!r}: {field}: outside your villages: "
                + ", ".join(named[:20])
                + (" ..." if len(named) > 20 else "")
            )
    made = records.insert(conn, checked, actor=principal.name)
    audit.record(
        conn,
        actor=principal.name,
        action="campaign_add",
        object_type="campaign",
        object_ids=[made["id"]],
        row_count=len(checked.grid_ids),
        detail={"campaign": checked.name, "grids": len(checked.grid_ids)},
    )
    return _public(made)


def _visible(principal: Principal, campaign: dict[str, Any]) -> bool:
    return principal.grid_ids is None or not principal.grid_ids.isdisjoint(campaign["grid_ids"])


def list_campaigns(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    """The campaigns with a grid in the principal's scope, the nearest deadline first."""
    principal.require(Action.VIEW_COVERAGE)
    return [_public(c) for c in records.list_campaigns(conn) if _visible(principal, c)]


def _publish(
    conn: Connection,
    report: dict[str, Any],
    *,
    campaign_id: int,
    grid_ids: frozenset[int] | None,
    day: Any,
) -> None:
    """Replace each grid's figures by their published values and recompute `behind_pace`
    from them (in place)."""
    head = report["campaign"]
    grids = report["grids"]
    # The draws are keyed by what a figure counts: the grid's households and residents as
    # the coverage report and the exports publish them (one true count, one draw), the seen
    # and counted ones by the campaign's start (the same count for the same start).
    figures = (
        "households",
        f"campaign_seen:{head['start']}",
        "residents",
        f"campaign_counted:{head['start']}",
    )

    def count() -> CountTable:
        return CountTable(
            level="grid",
            figures=figures,
            units=tuple(
                Unit(
                    key=g["grid"],
                    counts=tuple(int(g[f]) for f in records.PROGRESS_FIGURES),
                    group=g["village"],
                    grids=(g["grid"],),
                )
                for g in grids
            ),
        )

    _, table = publish(
        conn,
        name=f"campaign_progress:{campaign_id}",
        figures=figures,
        scope=scope_key(grid_ids),
        day=day,
        count=count,
    )
    share = records.time_share(
        datetime.fromisoformat(head["start"]),
        datetime.fromisoformat(head["deadline"]),
        datetime.fromisoformat(head["as_of"]),
    )
    for grid in grids:
        values = table.get(grid["grid"], [None] * len(figures))
        grid.update(zip(records.PROGRESS_FIGURES, values, strict=True))
        grid["behind_pace"] = records.behind_pace(grid["seen"], grid["households"], share)


def progress(
    conn: Connection, principal: Principal, campaign_id: int, *, at: datetime | None = None
) -> dict[str, Any]:
    """`{"campaign", "grids"}` at `at` (default now; without a zone, the town's time) over
    the campaign's grids in the principal's scope; a campaign with none of them is not
    found.

    For a principal who may not see households, `at` is fixed as for the coverage report:
    the end of a closed day, or now for any moment of today or later.
    """
    principal.require(Action.VIEW_COVERAGE)
    found = records.get(conn, campaign_id)
    if found is None or not _visible(principal, found):
        raise NotFoundError(f"campaign {campaign_id}: no such campaign")
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=town_timezone(conn))
    day = None
    if controlled(principal):
        day, at = fixed_as_of(at)
    now = at or datetime.now(UTC)
    apply_scope(conn, principal)
    report = records.progress(conn, campaign_id, now, grid_ids=principal.grid_ids)
    report["campaign"]["figures"] = "published" if controlled(principal) else "exact"
    if controlled(principal):
        _publish(conn, report, campaign_id=campaign_id, grid_ids=principal.grid_ids, day=day)
    for grid in report["grids"]:
        del grid["village"]
    audit.record(
        conn,
        actor=principal.name,
        action="campaign_progress",
        object_type="campaign",
        object_ids=[campaign_id],
        row_count=len(report["grids"]),
        detail={"as_of": report["campaign"]["as_of"], "figures": report["campaign"]["figures"]},
    )
    return report
