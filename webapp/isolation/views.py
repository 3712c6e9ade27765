"""`POST /api/v1/isolation/assign` (the proposal, `{"keep_families", "use_reserve"}`),
`POST /api/v1/isolation/assign/apply` (the same, made again under the sites' lock and
written; 409 when a bed was taken meanwhile) and `GET /api/v1/isolation/beds?at=`.
Everything goes through `geodata.services.isolation` (scope, row security, audit)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from geodata import params
from geodata.auth.access import Action
from geodata.params.isolation import AssignParams, BedsParams
from geodata.services import isolation as service
from webapp.infra import database
from webapp.infra.params import json_object
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("isolation", __name__)


def _body() -> dict[str, Any]:
    """The JSON object sent; an empty body is `{}` (every switch off)."""
    return json_object() if request.get_data() else {}


@bp.post("/api/v1/isolation/assign")
@requires(Action.OPERATE)
def propose() -> Response:
    p = params.validate(AssignParams, _body())
    with database.engine().begin() as conn:
        found = service.proposal(conn, principal(), keep_families=bool(p.keep_families),
                                 use_reserve=bool(p.use_reserve))  # fmt: skip
    return json_response(found)


@bp.post("/api/v1/isolation/assign/apply")
@requires(Action.OPERATE)
def apply() -> Response:
    p = params.validate(AssignParams, _body())
    with database.engine().begin() as conn:
        done = service.apply(conn, principal(), keep_families=bool(p.keep_families),
                             use_reserve=bool(p.use_reserve))  # fmt: skip
    return json_response(done, status=201 if done["assignment_ids"] else 200)


@bp.get("/api/v1/isolation/beds")
@requires(Action.VIEW_MAP)
def beds() -> Response:
    p = params.validate(BedsParams, request.args.to_dict())
    with database.engine().begin() as conn:
        return json_response(service.beds(conn, principal(), at=p.at))
