"""Patrol zones as a planner edits them: the /plan/patrols page and its API (a proposal, a
street block moved with the zones rescored, the edited zones applied)."""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from geodata import params
from geodata.auth.access import Action
from geodata.params.patrols import AssignmentParams, MoveParams, ProposeZonesParams
from geodata.services import patrol_proposals
from webapp.infra import database
from webapp.infra.i18n import N_
from webapp.infra.params import json_object
from webapp.infra.planning_page import render_planning_page
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("patrols", __name__)


@bp.post("/api/v1/plan/patrols/propose")
@requires(Action.PLAN)
def propose() -> Response:
    """K zones for a period (`wangge plan patrols`' options), each zone's figures and the
    street blocks as GeoJSON with their zone; `town` goes back with every edit."""
    asked = params.validate(ProposeZonesParams, json_object())
    with database.engine().begin() as conn:
        plan = patrol_proposals.propose(
            conn,
            principal(),
            zones=asked.zones,
            period=asked.period,
            village=asked.village,
            by=asked.by,
            keep_existing=bool(asked.keep_existing),
        )
    return json_response(plan)


@bp.post("/api/v1/plan/patrols/rescore")
@requires(Action.PLAN)
def rescore() -> Response:
    """Street block `unit` moved to zone `zone`: every zone's figures (`changed`: measured
    again); a move that would cut a zone in two or empty it is a 400 naming the zone."""
    asked = params.validate(MoveParams, json_object())
    with database.engine().begin() as conn:
        answer = patrol_proposals.rescore_move(
            conn,
            principal(),
            town=asked.town,
            period=asked.period,
            village=asked.village,
            keep_existing=bool(asked.keep_existing),
            units=asked.units,
            zones=asked.zones,
            unit=asked.unit,
            to=asked.zone,
        )
    return json_response(answer)


@bp.post("/api/v1/plan/patrols/apply")
@requires(Action.PLAN)
def apply() -> Response:
    """Write the assignment's zones as the period's patrol zones (audited)."""
    asked = params.validate(AssignmentParams, json_object())
    with database.engine().begin() as conn:
        answer = patrol_proposals.apply_assignment(
            conn,
            principal(),
            town=asked.town,
            period=asked.period,
            by=asked.by,
            village=asked.village,
            keep_existing=bool(asked.keep_existing),
            units=asked.units,
            zones=asked.zones,
        )
    return json_response(answer)


PAGE_MESSAGES = {
    "solving": N_("Solving…"),
    "proposed": N_("{zones} zones proposed in {seconds} s."),
    "pick": N_(
        "Street block {unit} (zone {zone}): click a zone in the table,"
        " or a block of the zone it goes to."
    ),
    "moving": N_("Measuring the zones again…"),
    "moved": N_("Street block {unit} moved to zone {zone}."),
    "applied": N_("{count} patrol zones written."),
    "zone": N_("Zone"),
    "block": N_("Street block"),
    "households": N_("Households"),
    "road": N_("Road (m)"),
    "hours": N_("Hours"),
    "posts": N_("Posts"),
}
"""Texts the page's script shows, translated when the page is made."""


@bp.get("/plan/patrols")
@requires(Action.PLAN)
def page() -> str:
    """Propose patrol zones, move street blocks between them, apply."""
    return render_planning_page(
        "patrols.html",
        N_("Patrol zone planning"),
        {
            "propose": url_for("patrols.propose"),
            "rescore": url_for("patrols.rescore"),
            "apply": url_for("patrols.apply"),
        },
        PAGE_MESSAGES,
    )
