"""The coverage report as published to roles without household access: no household items,
household figures through the disclosure rules, free parameters fixed to a few steps."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth.access import ForbiddenError
from geodata.disclosure.rules import is_closed, round_radius_m
from geodata.disclosure.snapshots import publish, scope_key
from geodata.disclosure.tables import CountTable, Published, Unit
from geodata.town_time import TOWN_TIMEZONE

HOUSEHOLD_FIGURES = ("households", "reached", "screened_24h", "screened", "never_visited")
"""Figures of the coverage report that count households (the first: the unit's households,
which the others are about)."""
HOUSEHOLD_ITEMS = frozenset(
    {"unreached_households", "never_visited", "buildings_without_households"}
)
"""Items of the coverage report that are households, or buildings known to have none."""


def village_grids(conn: Connection, grid_ids: frozenset[int] | None) -> dict[str, tuple[str, ...]]:
    """The codes of the grids in scope of each village (what a village's figures sum)."""
    rows = conn.execute(
        text(
            "SELECT v.code, array_agg(g.code ORDER BY g.code) FROM grids AS g "
            "JOIN villages AS v ON v.id = g.village_id "
            "WHERE CAST(:scope AS bigint[]) IS NULL OR g.id = ANY(:scope) GROUP BY v.code"
        ),
        {"scope": None if grid_ids is None else sorted(grid_ids)},
    )
    return {str(code): tuple(str(g) for g in grids) for code, grids in rows}


def publish_report_units(
    conn: Connection,
    units: list[dict[str, Any]],
    *,
    level: str,
    name: str,
    grid_ids: frozenset[int] | None,
    day: date | None,
) -> tuple[date, Published]:
    """The household figures of a coverage report's grids, villages or town, published."""

    def count() -> CountTable:
        members: dict[str, tuple[str, ...]]
        if level == "grid":
            members = {str(u["code"]): (str(u["code"]),) for u in units}
        else:
            members = village_grids(conn, grid_ids)
            if level == "town":
                every = tuple(sorted(g for grids in members.values() for g in grids))
                members = {str(u["code"]): every for u in units}
        return CountTable(
            level=level,
            figures=HOUSEHOLD_FIGURES,
            units=tuple(
                Unit(
                    key=str(u["code"]),
                    counts=tuple(int(u.get(f) or 0) for f in HOUSEHOLD_FIGURES),
                    group=str(u.get("village") or "") if level == "grid" else "",
                    grids=members.get(str(u["code"]), ()),
                )
                for u in units
            ),
        )

    scope = scope_key(grid_ids)
    return publish(conn, name=name, figures=HOUSEHOLD_FIGURES, scope=scope, day=day, count=count)


def fixed_as_of(as_of: datetime | None) -> tuple[date | None, datetime | None]:
    """A moment asked for, as such roles get it: the end of a closed day (and that day), or
    now (None) for any moment of today or later."""
    if as_of is None:
        return None, None
    day = as_of.astimezone(TOWN_TIMEZONE).date()
    if not is_closed(day):
        return None, None
    return day, datetime.combine(day, time.max, tzinfo=TOWN_TIMEZONE)


def fixed_radius_m(radius_m: float | None) -> float | None:
    return None if radius_m is None else round_radius_m(radius_m)


def allowed_items(item_kinds: Collection[str] | None, every: Collection[str]) -> list[str]:
    """The item kinds such a role may list: any household kind asked for is refused."""
    if item_kinds is not None:
        refused = sorted(set(item_kinds) & HOUSEHOLD_ITEMS)
        if refused:
            raise ForbiddenError(
                f"items: {', '.join(refused)} are households; your role sees their counts only"
            )
        return list(item_kinds)
    return [k for k in every if k not in HOUSEHOLD_ITEMS]


def publish_report(
    conn: Connection,
    report: dict[str, Any],
    *,
    grid_ids: frozenset[int] | None,
    day: date | None,
    variant: str,
) -> None:
    """Replace the household figures of every level of `report` by their published values
    (in place); `variant` names the parameters that change what is counted."""
    levels = {"town": [{"code": "town", **report["town"]}], "villages": report["villages"]}
    levels["grids"] = report["grids"]
    for key, units in levels.items():
        if not units:
            continue
        level = {"town": "town", "villages": "village", "grids": "grid"}[key]
        _, table = publish_report_units(
            conn,
            units,
            level=level,
            name=f"coverage_by_{level}:{variant}",
            grid_ids=grid_ids,
            day=day,
        )
        for unit in units:
            unit.update(zip(HOUSEHOLD_FIGURES, table[str(unit["code"])], strict=True))
    report["town"].update({f: levels["town"][0][f] for f in HOUSEHOLD_FIGURES})
