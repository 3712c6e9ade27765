"""Coverage as a principal may see it: their grids only, listing audited."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from geodata.analysis.coverage import Level, coverage_report
from geodata.analysis.coverage.report import ITEM_KINDS
from geodata.analysis.coverage.screening import MAX_WINDOW_H
from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.disclosure.report import allowed_items, fixed_as_of, fixed_radius_m, publish_report
from geodata.disclosure.rules import controlled
from geodata.errors import ConfigError
from geodata.records.coverage_cache import household_counts, town_inputs
from geodata.records.coverage_inputs import fetch_inputs
from geodata.records.responsible import grid_leaders
from geodata.records.town_settings import setting
from geodata.services import command_post


def coverage_for(
    conn: Connection,
    principal: Principal,
    *,
    as_of: datetime | None = None,
    radius_m: float | None = None,
    network: bool = False,
    level: Level = "grid",
    with_items: bool = False,
    item_kinds: Collection[str] | None = None,
    with_leaders: bool = False,
    window_h: float | None = None,
    with_command_post: bool = False,
) -> dict[str, Any]:
    """The coverage report over the principal's grids (the town for town-wide principals).

    Town and village figures then sum only the grids in scope; items outside it are left
    out. A principal who may not see households gets no household items and the household
    figures as `geodata.disclosure` publishes them, as of a closed day or now, with the
    radius rounded to a step of RADIUS_STEPS_M.

    `item_kinds` (with `with_items`) lists only those kinds of item (None: every kind; an
    unknown kind is a ConfigError). Listing the items is recorded in the audit log
    (counts, never values).

    `window_h` is the screening window in hours (`screened`); default, and always for a
    principal who may not see households, the town setting `screening_window_days`.

    `with_leaders` adds each grid's `leader` (`geodata.records.responsible`): the name and
    the phone masked for a principal who may see people, else only whether one is
    assigned; naming them is audited.

    `with_command_post` adds `command_post`: enterprises per resumption state, publicity points
    not checked in 7 days and passes valid on the day (`geodata.services.command_post`).
    """
    principal.require(Action.VIEW_COVERAGE)
    if item_kinds is not None:
        unknown = sorted(set(item_kinds) - set(ITEM_KINDS))
        if unknown:
            raise ConfigError(f"unknown item kinds: {', '.join(unknown)}")
    if window_h is not None and not 0 < window_h <= MAX_WINDOW_H:
        raise ConfigError(f"window_h: more than 0 and at most {MAX_WINDOW_H} hours")
    day: date | None = None
    if window_h is None or controlled(principal):
        window_h = float(setting(conn, "screening_window_days")) * 24.0
    if controlled(principal):
        # Household figures only through the disclosure rules, and no household rows.
        day, as_of = fixed_as_of(as_of)
        radius_m = fixed_radius_m(radius_m)
        if with_items:
            item_kinds = allowed_items(item_kinds, ITEM_KINDS)
    apply_scope(conn, principal)
    counts = None
    if with_items:  # households one by one, where they are listed
        inputs = fetch_inputs(conn, as_of=as_of, grid_ids=principal.grid_ids)
    else:  # their figures per grid from the cache, else counted per building
        inputs = town_inputs(conn, as_of=as_of, grid_ids=principal.grid_ids)
        counts = household_counts(conn, inputs, radius_m=radius_m, network=network, hours=window_h)
        if counts is None:
            inputs = fetch_inputs(
                conn,
                as_of=inputs.as_of,
                grid_ids=principal.grid_ids,
                per_building=True,
                screening_hours=window_h,
            )
    report = coverage_report(
        inputs,
        radius_m=radius_m,
        network=network,
        level=level,
        with_items=with_items,
        item_kinds=item_kinds,
        screening_hours=window_h,
        household_counts=counts,
    )
    if controlled(principal):
        variant = f"r{radius_m or 'own'}:{'network' if network else 'line'}:w{window_h:g}"
        publish_report(conn, report, grid_ids=principal.grid_ids, day=day, variant=variant)
    if with_leaders and report["grids"]:
        leaders = grid_leaders(conn, principal, [g["code"] for g in report["grids"]])
        for grid in report["grids"]:
            grid["leader"] = leaders.get(grid["code"], {"status": "none"})
    if with_items:
        audit.record(
            conn,
            actor=principal.name,
            action="list",
            object_type="coverage",
            row_count=sum(len(v) for v in report["items"].values()),
            detail={
                "as_of": report["as_of"],
                "network": network,
                "kinds": sorted(report["items"]),
            },
        )
    if with_command_post:
        report["command_post"] = command_post.figures(conn, principal, at=as_of)
    return report
