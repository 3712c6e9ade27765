"""Grid workers' day: the households to visit today, and recording a visit (idempotent)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from geodata.auth.access import Action
from geodata.records import visits
from geodata.vocab import VisitResult
from webapp.infra import database
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("visits", __name__)


@bp.get("/visits/today")
@requires(Action.VIEW_HOUSEHOLDS)
def today_page() -> str:
    with database.engine().begin() as conn:
        rows = visits.due_today(conn, principal())
    return render_template("visits_today.html", rows=rows, who=principal())


@bp.get("/api/v1/visits/due")
@requires(Action.VIEW_HOUSEHOLDS)
def due() -> Response:
    with database.engine().begin() as conn:
        rows = visits.due_today(conn, principal())
    return json_response({"households": rows})


@bp.post("/api/v1/households/<int:household_id>/visits")
@requires(Action.EDIT_HOUSEHOLDS)
def record(household_id: int) -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "a JSON object with result, fever_count and idempotency_key")
    key = request.headers.get("Idempotency-Key") or body.get("idempotency_key")
    try:
        result = VisitResult(str(body.get("result")))
        fever = body.get("fever_count", 0)
        if isinstance(fever, bool) or not isinstance(fever, int):
            raise TypeError
    except (ValueError, TypeError):
        abort(400, "result: seen_all, partial or nobody_home; fever_count: a whole number")
    if not isinstance(key, str):
        abort(400, "idempotency_key (or the Idempotency-Key header) is required")
    with database.engine().begin() as conn:
        written = visits.record_visit(
            conn, principal(), household_id, result=result, fever_count=fever, idempotency_key=key
        )
    return json_response(written, status=201 if written["created"] else 200)
