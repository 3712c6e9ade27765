"""Checkpoint and seal planning: the /plan page and its API, as `wangge plan` answers."""

from __future__ import annotations

import pandas as pd
from flask import Blueprint, Response, abort, request, url_for

from geodata import params
from geodata.auth.access import Action
from geodata.services.planning import (
    apply_checkpoint_plan,
    apply_seal_plan,
    candidate_sites_for,
    checkpoint_plan_for,
    score_sites_for,
    seal_plan_for,
)
from webapp.infra import database
from webapp.infra.i18n import N_
from webapp.infra.params import json_object
from webapp.infra.planning_page import render_planning_page
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("plan", __name__)


@bp.post("/api/v1/plan/checkpoints")
@requires(Action.PLAN)
def propose_checkpoints() -> Response:
    """Where to put checkpoints; the answer is `wangge plan checkpoints --format json`'s."""
    asked = params.validate(params.PlanParams, json_object())
    with database.engine().begin() as conn:
        plan = checkpoint_plan_for(
            conn,
            principal(),
            asked.plan_request(default_time_limit_s=params.DEFAULT_TIME_LIMIT_S),
            weighting=asked.weight,
        )
    return json_response(plan)


@bp.post("/api/v1/plan/checkpoints/apply")
@requires(Action.PLAN)
def apply_checkpoints() -> Response:
    """Write sites as active checkpoints: `site_ids` of the town's candidates, or a proposal
    (its `selected` sites); `radius_m` and `staff_per_shift` describe the new posts."""
    asked = params.validate(params.ApplyParams, json_object())
    who = principal()
    if asked.selected is not None:
        selected = params.site_dicts(asked.selected)
    else:
        wanted = asked.site_ids or []
        with database.engine().begin() as conn:
            sites = candidate_sites_for(conn, who)
        by_id = {str(s["id"]): s for s in sites.to_dict("records")}
        missing = [i for i in wanted if i not in by_id]
        if missing:
            abort(400, f"{len(missing)} site ids are not candidate sites, the first: {missing[0]}")
        selected = [
            {"id": i, "kind": str(by_id[i]["kind"]), "lon": by_id[i]["lon"], "lat": by_id[i]["lat"]}
            for i in wanted
        ]
    with database.engine().begin() as conn:
        created = apply_checkpoint_plan(
            conn, who, selected, radius_m=asked.radius_m, staff_per_shift=asked.staff_per_shift
        )
    return json_response({"applied": created, "sites": len(selected)})


@bp.post("/api/v1/plan/score")
@requires(Action.PLAN)
def score() -> Response:
    """The demand reached by `sites` (default: the active checkpoints) within `radius_m`."""
    asked = params.validate(params.ScoreParams, json_object())
    sites = None
    if asked.sites is not None:
        sites = pd.DataFrame(params.site_dicts(asked.sites), columns=["id", "kind", "lon", "lat"])
    with database.engine().begin() as conn:
        scored = score_sites_for(
            conn, principal(), sites, radius_m=asked.radius_m, network=bool(asked.network)
        )
    return json_response(scored)


def _compound_arg() -> int | None:
    raw = request.args.get("compound", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        abort(400, "compound: a compound id (a whole number)")
    return int(raw)


@bp.get("/api/v1/plan/seals")
@requires(Action.PLAN)
def seals() -> Response:
    """`?compound=`: for each compound, the entrance kept open and those to seal."""
    compound_id = _compound_arg()
    with database.engine().begin() as conn:
        plans = seal_plan_for(conn, principal(), compound_id=compound_id)
    return json_response({"plans": plans})


@bp.post("/api/v1/plan/seals/apply")
@requires(Action.PLAN)
def apply_seals() -> Response:
    """Apply the seal plan of `compound_ids` (or of every compound with `"all": true`)."""
    wanted = params.validate(params.SealApplyParams, json_object()).compound_ids
    who = principal()
    with database.engine().begin() as conn:
        plans = seal_plan_for(conn, who)
        if wanted is not None:
            known = {int(p["compound_id"]) for p in plans}
            missing = [c for c in wanted if c not in known]
            if missing:
                abort(400, f"compound {missing[0]}: no seal plan (no entrances, or not yours)")
            plans = [p for p in plans if int(p["compound_id"]) in set(wanted)]
        applied = apply_seal_plan(conn, who, plans)
    return json_response({"applied": applied, "plans": plans})


# -- the page ------------------------------------------------------------------------------

PAGE_MESSAGES = {
    "buildings": N_("buildings"),
    "moved": N_("moved"),
    "added": N_("added"),
    "solving": N_("Solving…"),
    "proposed": N_("{posts} posts proposed ({status})."),
    "applied": N_("{count} checkpoints written."),
    "noSeals": N_("Every compound has one open entrance: nothing to seal."),
    "compound": N_("Compound"),
    "households": N_("Households"),
    "keep": N_("Keep open"),
    "seal": N_("Seal"),
    "applySeal": N_("Apply"),
    "sealApplied": N_("{sealed} sealed, {opened} opened"),
}
"""Texts the page's script shows, translated when the page is made."""


@bp.get("/plan")
@requires(Action.PLAN)
def page() -> str:
    """Checkpoints now and proposed, their coverage, and the seal plan per compound."""
    return render_planning_page(
        "plan.html",
        N_("Checkpoint planning"),
        {
            "propose": url_for("plan.propose_checkpoints"),
            "apply": url_for("plan.apply_checkpoints"),
            "score": url_for("plan.score"),
            "seals": url_for("plan.seals"),
            "seals_apply": url_for("plan.apply_seals"),
        },
        PAGE_MESSAGES,
    )
