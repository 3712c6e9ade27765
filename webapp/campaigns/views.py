"""`POST /api/v1/campaigns` (`{"name", "villages" | "grids", "start", "deadline"}`: 201 with
the campaign), `GET /api/v1/campaigns` and `GET /api/v1/campaigns/<id>/progress?at=`.
Everything goes through `geodata.services.campaigns` (scope, disclosure, audit). A session
needs its CSRF token (X-CSRFToken) to create one; a bearer token not."""

from __future__ import annotations

from flask import Blueprint, Response, request

from geodata import params
from geodata.auth.access import Action
from geodata.params.campaigns import CampaignParams, ProgressParams
from geodata.services import campaigns as service
from webapp.infra import database
from webapp.infra.params import json_object
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("campaigns", __name__)


@bp.post("/api/v1/campaigns")
@requires(Action.OPERATE)
def add() -> Response:
    new = params.validate(CampaignParams, json_object()).new()
    with database.engine().begin() as conn:
        return json_response(service.add(conn, principal(), new), status=201)


@bp.get("/api/v1/campaigns")
@requires(Action.VIEW_COVERAGE)
def list_() -> Response:
    with database.engine().begin() as conn:
        return json_response({"campaigns": service.list_campaigns(conn, principal())})


@bp.get("/api/v1/campaigns/<int:campaign_id>/progress")
@requires(Action.VIEW_COVERAGE)
def progress(campaign_id: int) -> Response:
    """`{"campaign", "grids": [{"grid", "households", "seen", "people_registered",
    "people_counted", "behind_pace"}]}`; exact or published as the caller's role allows."""
    p = params.validate(ProgressParams, request.args.to_dict())
    with database.engine().begin() as conn:
        return json_response(service.progress(conn, principal(), campaign_id, at=p.at))
