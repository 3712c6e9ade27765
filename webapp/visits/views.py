"""Grid workers' day: the households to visit today, and recording a visit (idempotent)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from geodata.auth.access import Action
from geodata.params.base import RequestError, validate
from geodata.params.visits import VisitParams
from geodata.records import due_visits, visits
from geodata.vocab import VisitResult
from webapp.infra import database
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("visits", __name__)


@bp.get("/visits/today")
@requires(Action.VIEW_HOUSEHOLDS)
def today_page() -> str:
    with database.engine().begin() as conn:
        rows = due_visits.due_today(conn, principal())
    return render_template("visits_today.html", rows=rows, who=principal())


@bp.get("/api/v1/visits/due")
@requires(Action.VIEW_HOUSEHOLDS)
def due() -> Response:
    with database.engine().begin() as conn:
        rows = due_visits.due_today(conn, principal())
    return json_response({"households": rows})


@bp.post("/api/v1/households/<int:household_id>/visits")
@requires(Action.EDIT_HOUSEHOLDS)
def record(household_id: int) -> Response:
    """The sync of one visit: 201 with the visit, and the same again for a replay of the same
    `Idempotency-Key` and body; 409 for the key with another body or household."""
    params = validate(VisitParams, request.get_json(silent=True))
    key = request.headers.get("Idempotency-Key") or params.idempotency_key
    if not key:
        raise RequestError(
            "idempotency_key (or the Idempotency-Key header) is required",
            fields=("idempotency_key",),
        )
    temperatures = [
        visits.Temperature(t.resident, t.window, t.temperature_c) for t in params.temperatures
    ]
    with database.engine().begin() as conn:
        written = visits.record_visit(
            conn, principal(), household_id, result=VisitResult(params.result),
            fever_count=params.fever_count, idempotency_key=key, at=params.visited_at,
            people_seen=params.people_seen, temperatures=temperatures, late=bool(params.late),
        )  # fmt: skip
    return json_response(written, status=201)
