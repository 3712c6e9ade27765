"""The supervision page: today's inspections, the active checkpoints not inspected, the
overdue and open rectification items, and forms (with CSRF) to record an inspection, add an
item, fix it and verify it; the overdue list as JSON. Everything goes through
`geodata.services.supervision` (commanders see their villages' checkpoints only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from geodata import params
from geodata.auth.access import Action
from geodata.params.supervision import (
    InspectionParams,
    RectificationParams,
    RectificationStepParams,
)
from geodata.records.supervision import CHECKLIST
from geodata.services import supervision as service
from webapp.infra import database
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("supervision", __name__)


def _text(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


def _whole(name: str) -> int | str | None:
    """A whole number typed in a form; anything else is left for the model to refuse."""
    value = _text(name)
    return int(value) if value is not None and value.isdigit() else value


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _back() -> WerkzeugResponse:
    return redirect(url_for("supervision.page"), code=303)


@bp.get("/supervision")
@requires(Action.SUPERVISE)
def page() -> str:
    with database.engine().begin() as conn:
        day = service.list_inspections(conn, principal())
        overdue = service.overdue(conn, principal())
        pending = [
            item
            for status in ("open", "fixed")
            for item in service.list_rectifications(conn, principal(), status=status)
        ]
    return render_template(
        "supervision.html",
        day=day,
        overdue=overdue,
        overdue_ids={i["id"] for i in overdue},
        pending=pending,
        checklist=CHECKLIST,
        who=principal(),
    )


@bp.post("/supervision/inspections")
@requires(Action.SUPERVISE)
def add_inspection() -> WerkzeugResponse:
    fields: dict[str, Any] = {
        "checkpoint": _text("checkpoint") or "",
        "inspector": _text("inspector") or "",
        "at": _text("at"),
        "notes": _text("notes"),
        **{name: request.form.get(name) == "on" for name in CHECKLIST},
    }
    request_params = params.validate(InspectionParams, _given(fields))
    with database.engine().begin() as conn:
        service.add_inspection(conn, principal(), request_params)
    return _back()


@bp.post("/supervision/rectifications")
@requires(Action.SUPERVISE)
def add_rectification() -> WerkzeugResponse:
    fields = {
        "checkpoint": _text("checkpoint") or "",
        "description": _text("description") or "",
        "owner": _text("owner") or "",
        "deadline": _text("deadline") or "",
        "inspection": _whole("inspection"),
    }
    request_params = params.validate(RectificationParams, _given(fields))
    with database.engine().begin() as conn:
        service.add_rectification(conn, principal(), request_params)
    return _back()


def _step(item_id: int, *, verify: bool) -> WerkzeugResponse:
    fields = {"by": _text("by") or "", "version": _whole("version") or ""}
    request_params = params.validate(RectificationStepParams, fields)
    with database.engine().begin() as conn:
        service.step(conn, principal(), item_id, request_params, verify=verify)
    return _back()


@bp.post("/supervision/rectifications/<int:item_id>/fix")
@requires(Action.SUPERVISE)
def fix(item_id: int) -> WerkzeugResponse:
    return _step(item_id, verify=False)


@bp.post("/supervision/rectifications/<int:item_id>/verify")
@requires(Action.SUPERVISE)
def verify(item_id: int) -> WerkzeugResponse:
    return _step(item_id, verify=True)


@bp.get("/api/v1/supervision/overdue")
@requires(Action.SUPERVISE)
def overdue_api() -> Response:
    with database.engine().begin() as conn:
        return json_response({"items": service.overdue(conn, principal())})
