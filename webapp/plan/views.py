"""Checkpoint and seal planning: the /plan page and its API, as `wangge plan` answers."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]

from geodata.analysis.placement.candidates import KINDS
from geodata.analysis.placement.covering import PlacementError
from geodata.analysis.placement.plan import MODELS, SHIFTS_PER_DAY, PlanRequest
from geodata.auth.access import Action
from geodata.maps.layers import town_extent
from geodata.services.planning import (
    apply_checkpoint_plan,
    apply_seal_plan,
    candidate_sites_for,
    checkpoint_plan_for,
    score_sites_for,
    seal_plan_for,
)
from webapp.infra import database
from webapp.infra.basemap import allow_basemap_images, basemap_url
from webapp.infra.headers import csp_nonce
from webapp.infra.i18n import N_
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("plan", __name__)

MAX_RADIUS_M = 100_000.0
MAX_POSTS = 10_000
MAX_SITES = 2_000
MAX_TIME_LIMIT_S = 60.0
DEFAULT_TIME_LIMIT_S = 20.0
DEFAULT_RADIUS_M = 500.0
MAX_ID_CHARS = 128


# -- reading a JSON body -------------------------------------------------------------------


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "send a JSON object (Content-Type: application/json)")
    return body


def _number(body: dict[str, Any], name: str, *, low: float, high: float) -> float | None:
    """A finite number in (low, high], or None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        abort(400, f"{name}: a number")
    if not low < float(value) <= high:
        abort(400, f"{name}: more than {low:g} and at most {high:g}")
    return float(value)


def _whole(body: dict[str, Any], name: str, *, low: int, high: int) -> int | None:
    """A whole number in [low, high], or None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        abort(400, f"{name}: a whole number")
    if not low <= value <= high:
        abort(400, f"{name}: from {low} to {high}")
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        abort(400, f"{name}: true or false")
    return value


def _radius_m(body: dict[str, Any], *, required: bool) -> float:
    radius = _number(body, "radius_m", low=0.0, high=MAX_RADIUS_M)
    if radius is None:
        if required:
            abort(400, "radius_m: a number of metres is required")
        return DEFAULT_RADIUS_M
    return radius


def _staff_per_shift(body: dict[str, Any]) -> int:
    found = _whole(body, "staff_per_shift", low=1, high=100)
    return 2 if found is None else found


def plan_request(body: dict[str, Any]) -> PlanRequest:
    """The checkpoint plan a JSON body asks for (field names as the CLI's options)."""
    known = {
        "model",
        "budget",
        "radius_m",
        "staff_budget",
        "shifts",
        "staff_per_shift",
        "share",
        "keep_existing",
        "network",
        "time_limit_s",
        "greedy",
        "weight",
    }
    unknown = sorted(str(k) for k in body if k not in known)
    if unknown:
        abort(400, f"unknown fields: {', '.join(unknown)[:200]}")
    model = body.get("model", "mclp")
    if model not in MODELS:
        abort(400, "model: mclp or lscp")
    time_limit = _number(body, "time_limit_s", low=0.0, high=MAX_TIME_LIMIT_S)
    shifts = _whole(body, "shifts", low=1, high=24)
    share = _number(body, "share", low=0.0, high=1.0)
    try:
        return PlanRequest(
            radius_m=_radius_m(body, required=True),
            model="lscp" if model == "lscp" else "mclp",
            budget=_whole(body, "budget", low=0, high=MAX_POSTS),
            staff_budget=_whole(body, "staff_budget", low=0, high=MAX_POSTS * 100),
            shifts=SHIFTS_PER_DAY if shifts is None else shifts,
            staff_per_shift=_staff_per_shift(body),
            share=1.0 if share is None else share,
            keep_existing=_flag(body, "keep_existing"),
            network=_flag(body, "network"),
            exact=not _flag(body, "greedy"),
            time_limit_s=DEFAULT_TIME_LIMIT_S if time_limit is None else time_limit,
        )
    except ValueError as exc:
        abort(400, str(exc))


def _weighting(body: dict[str, Any]) -> str:
    weighting = body.get("weight", "members")
    if weighting not in ("members", "households"):
        abort(400, "weight: members or households")
    return str(weighting)


def _coordinate(value: object, number: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        abort(400, f"site {number}: lon and lat are numbers")
    return float(value)


def _site(raw: object, number: int) -> dict[str, Any]:
    """One site of a proposal body: id, kind, lon, lat."""
    if not isinstance(raw, dict):
        abort(400, f"site {number}: an object with id, kind, lon and lat")
    lon, lat = _coordinate(raw.get("lon"), number), _coordinate(raw.get("lat"), number)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        abort(400, f"site {number}: not a longitude/latitude")
    kind = raw.get("kind", "site")
    if kind not in (*KINDS, "site"):
        abort(400, f"site {number}: kind is one of {', '.join((*KINDS, 'site'))}")
    site_id = raw.get("id", str(number))
    if not isinstance(site_id, str | int) or isinstance(site_id, bool):
        abort(400, f"site {number}: id is a string")
    if len(str(site_id)) > MAX_ID_CHARS:
        abort(400, f"site {number}: id is at most {MAX_ID_CHARS} characters")
    return {"id": str(site_id), "kind": str(kind), "lon": lon, "lat": lat}


def _sites(raw: object, name: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        abort(400, f"{name}: a list of sites")
    if len(raw) > MAX_SITES:
        abort(400, f"{name}: at most {MAX_SITES} sites")
    return [_site(item, number) for number, item in enumerate(raw, start=1)]


def _site_ids(raw: object) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        abort(400, "site_ids: a list of site ids (strings)")
    if len(raw) > MAX_SITES:
        abort(400, f"site_ids: at most {MAX_SITES} sites")
    return [str(i) for i in raw]


# -- the API -------------------------------------------------------------------------------


@bp.post("/api/v1/plan/checkpoints")
@requires(Action.PLAN)
def propose_checkpoints() -> Response:
    """Where to put checkpoints; the answer is `wangge plan checkpoints --format json`'s."""
    body = _body()
    request_ = plan_request(body)
    weighting = _weighting(body)
    with database.engine().begin() as conn:
        try:
            plan = checkpoint_plan_for(
                conn,
                principal(),
                request_,
                weighting="households" if weighting == "households" else "members",
            )
        except PlacementError as exc:
            abort(400, str(exc))
    return json_response(plan)


@bp.post("/api/v1/plan/checkpoints/apply")
@requires(Action.PLAN)
def apply_checkpoints() -> Response:
    """Write sites as active checkpoints: `site_ids` of the town's candidates, or a proposal
    (its `selected` sites); `radius_m` and `staff_per_shift` describe the new posts."""
    body = _body()
    radius_m = _radius_m(body, required=False)
    staff = _staff_per_shift(body)
    if ("site_ids" in body) == ("selected" in body):
        abort(400, "give either site_ids or a proposal's selected sites")
    who = principal()
    if "selected" in body:
        selected = _sites(body["selected"], "selected")
    else:
        wanted = _site_ids(body["site_ids"])
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
            conn, who, selected, radius_m=radius_m, staff_per_shift=staff
        )
    return json_response({"applied": created, "sites": len(selected)})


@bp.post("/api/v1/plan/score")
@requires(Action.PLAN)
def score() -> Response:
    """The demand reached by `sites` (default: the active checkpoints) within `radius_m`."""
    body = _body()
    radius_m = _radius_m(body, required=False)
    network = _flag(body, "network")
    raw = body.get("sites")
    sites = None
    if raw is not None:
        sites = pd.DataFrame(_sites(raw, "sites"), columns=["id", "kind", "lon", "lat"])
    with database.engine().begin() as conn:
        scored = score_sites_for(conn, principal(), sites, radius_m=radius_m, network=network)
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
    body = _body()
    wanted = body.get("compound_ids")
    every = _flag(body, "all")
    if (wanted is None) == (not every):
        abort(400, 'give either compound_ids or "all": true')
    if wanted is not None and (
        not isinstance(wanted, list)
        or not wanted
        or len(wanted) > MAX_SITES
        or not all(isinstance(c, int) and not isinstance(c, bool) for c in wanted)
    ):
        abort(400, "compound_ids: a list of compound ids (whole numbers)")
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
    extent = town_extent(database.connection())
    nonce = csp_nonce()
    allow_basemap_images()
    return render_template(
        "plan.html",
        title=gettext("Checkpoint planning"),
        nonce=nonce,
        config={
            "bounds": extent.as_leaflet_bounds() if extent is not None else None,
            "basemap": basemap_url(),
            "urls": {
                "propose": url_for("plan.propose_checkpoints"),
                "apply": url_for("plan.apply_checkpoints"),
                "score": url_for("plan.score"),
                "seals": url_for("plan.seals"),
                "seals_apply": url_for("plan.apply_seals"),
                "villages": url_for("map.layer", name="villages"),
            },
            "messages": {key: gettext(message) for key, message in PAGE_MESSAGES.items()},
        },
    )
