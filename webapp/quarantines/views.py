"""`/api/v1/quarantines` (POST, GET ?status=), `/api/v1/quarantines/due?date=`,
`/api/v1/quarantines/<id>/checks` (POST, with an `Idempotency-Key`: the same key again
answers 200 with the check written the first time), `/release`, `/extend`, and
`/api/v1/fever-alerts` (GET ?open=, POST `/<id>/close`). Everything goes through
`geodata.services.quarantines` (grid scope, row security, audit)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, request

from geodata import params
from geodata.auth.access import Action
from geodata.params.quarantines import (
    CheckParams,
    CloseAlertParams,
    DueParams,
    ExtendParams,
    ListParams,
    QuarantineParams,
    ReleaseParams,
)
from geodata.records.quarantines import NewQuarantine
from geodata.records.town_settings import town_timezone
from geodata.services import quarantines as service
from webapp.infra import database
from webapp.infra.params import json_object
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("quarantines", __name__)
MAX_KEY_CHARS = 128


@bp.post("/api/v1/quarantines")
@requires(Action.EDIT_HOUSEHOLDS)
def add() -> Response:
    p = params.validate(QuarantineParams, json_object())
    new = NewQuarantine(resident=p.resident, type=p.type, reason=p.reason, start=p.start,
                        origin=p.origin, case_ref=p.case, days=p.days)  # fmt: skip
    with database.engine().begin() as conn:
        return json_response(service.add(conn, principal(), new), status=201)


@bp.get("/api/v1/quarantines")
@requires(Action.VIEW_HOUSEHOLDS)
def list_() -> Response:
    p = params.validate(ListParams, request.args.to_dict())
    with database.engine().begin() as conn:
        rows = service.list_quarantines(conn, principal(), status=p.status)
    return json_response({"quarantines": rows})


@bp.get("/api/v1/quarantines/due")
@requires(Action.VIEW_HOUSEHOLDS)
def due() -> Response:
    p = params.validate(DueParams, request.args.to_dict())
    with database.engine().begin() as conn:
        day = p.date or datetime.now(town_timezone(conn)).date()
        return json_response(service.due(conn, principal(), day))


@bp.get("/api/v1/quarantines/missed")
@requires(Action.VIEW_COVERAGE)
def missed() -> Response:
    """Checks due and missed per grid: exact, or published through the disclosure rules."""
    p = params.validate(DueParams, request.args.to_dict())
    with database.engine().begin() as conn:
        day = p.date or datetime.now(town_timezone(conn)).date()
        return json_response(service.missed_figures(conn, principal(), day))


@bp.post("/api/v1/quarantines/<int:quarantine_id>/checks")
@requires(Action.EDIT_HOUSEHOLDS)
def check(quarantine_id: int) -> Response:
    p = params.validate(CheckParams, json_object())
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > MAX_KEY_CHARS:
        raise params.RequestError(f"Idempotency-Key: at most {MAX_KEY_CHARS} characters")
    with database.engine().begin() as conn:
        done, created = service.check(
            conn, principal(), quarantine_id, temperature_c=p.temperature_c,
            at=p.checked_at, key=key,
        )  # fmt: skip
    return json_response(done, status=201 if created else 200)


@bp.post("/api/v1/quarantines/<int:quarantine_id>/release")
@requires(Action.OPERATE)
def release(quarantine_id: int) -> Response:
    p = params.validate(ReleaseParams, json_object())
    with database.engine().begin() as conn:
        done = service.release(conn, principal(), quarantine_id, reason=p.reason)
    return json_response({"quarantine": quarantine_id, "released": done,
                          "message": "released" if done else "released already"})  # fmt: skip


@bp.post("/api/v1/quarantines/<int:quarantine_id>/extend")
@requires(Action.OPERATE)
def extend(quarantine_id: int) -> Response:
    p = params.validate(ExtendParams, json_object())
    with database.engine().begin() as conn:
        ends = service.extend(conn, principal(), quarantine_id, days=p.days, reason=p.reason)
    return json_response({"quarantine": quarantine_id, "end": ends.isoformat()})


@bp.get("/api/v1/fever-alerts")
@requires(Action.VIEW_HOUSEHOLDS)
def alerts() -> Response:
    open_only = request.args.get("open", "true").lower() not in ("false", "0", "no")
    with database.engine().begin() as conn:
        return json_response({"alerts": service.alerts(conn, principal(), open_only=open_only)})


@bp.post("/api/v1/fever-alerts/<int:alert_id>/close")
@requires(Action.EDIT_HOUSEHOLDS)
def close_alert(alert_id: int) -> Response:
    p = params.validate(CloseAlertParams, json_object())
    with database.engine().begin() as conn:
        done = service.close_alert(conn, principal(), alert_id, action=p.action)
    return json_response({"alert": alert_id, "closed": done,
                          "message": "closed" if done else "closed already"})  # fmt: skip
