"""`GET /api/v1/coverage`: the coverage report over the caller's grids."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, request

from geodata import params
from geodata.analysis.coverage.report import ITEM_KINDS
from geodata.analysis.coverage.rollup import LEVELS, Level
from geodata.auth.access import Action
from geodata.services.coverage import coverage_for
from webapp.infra import database
from webapp.infra.params import window_h_arg
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("coverage", __name__)

_TRUE = ("1", "true", "yes", "on")


def _flag(name: str) -> bool:
    return request.args.get(name, "").strip().lower() in _TRUE


def _radius_m() -> float | None:
    raw = request.args.get("radius_m")
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        abort(400, "radius_m: a number of metres")
    if not 0 < value <= 100_000:
        abort(400, "radius_m: more than 0 and at most 100000 metres")
    return value


def _as_of() -> datetime | None:
    return params.filters({"as_of": request.args.get("as_of")}).as_of


def _level() -> Level:
    raw = request.args.get("level", "grid")
    found = next((level for level in LEVELS if level == raw), None)
    if found is None:
        abort(400, "level: town, village or grid")
    return found


def _item_kinds() -> tuple[str, ...] | None:
    """`?items=leaks,never_visited`: list only these kinds of item (and list them)."""
    raw = request.args.get("items")
    if raw is None or not raw.strip():
        return None
    kinds = tuple(dict.fromkeys(k.strip() for k in raw.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in ITEM_KINDS]
    if unknown or not kinds:
        abort(400, "items: a comma list of " + ", ".join(ITEM_KINDS))
    return kinds


@bp.get("/api/v1/coverage")
@requires(Action.VIEW_COVERAGE)
def api_coverage() -> Response:
    """`?radius_m=&network=1&as_of=&level=town|village|grid&list=1&items=&leaders=1&window_h=`,
    as `wangge coverage`.

    `items` (a comma list of item kinds) lists only those kinds; it implies `list=1`.
    `leaders=1` adds each grid's leader (name and phone masked for those who may see them).
    `command_post=1` adds enterprises per resumption state, publicity points not checked in 7
    days and passes valid on the day (passes through the disclosure rules for planners and
    analysts).
    """
    radius_m, as_of, level, kinds = _radius_m(), _as_of(), _level(), _item_kinds()
    with database.engine().begin() as conn:
        report = coverage_for(
            conn,
            principal(),
            as_of=as_of,
            radius_m=radius_m,
            network=_flag("network"),
            level=level,
            with_items=_flag("list") or kinds is not None,
            item_kinds=kinds,
            with_leaders=_flag("leaders"),
            window_h=window_h_arg(),
            with_command_post=_flag("command_post"),
        )
    return json_response(report)
