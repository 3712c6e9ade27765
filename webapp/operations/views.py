"""`/api/v1/entrances/<id>`, `/api/v1/checkpoints/<id>` (GET, PATCH) and
`/api/v1/shifts/<id>/staff` (POST to put a person on, DELETE to take them off).

A change carries the version it saw: 200 with the object and its new version, or 409 with
the object as it is now. A session needs its CSRF token (X-CSRFToken); a bearer token not.
"""

from __future__ import annotations

from flask import Blueprint, Response

from geodata import params
from geodata.auth.access import Action
from geodata.params.operations import ShiftStaffParams, StateChangeParams
from geodata.services.operations import set_state, show
from geodata.services.shift_staffing import change_shift_staff, show_shift
from webapp.infra import database
from webapp.infra.params import json_object
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("operations", __name__)


@bp.get("/api/v1/entrances/<int:object_id>")
@requires(Action.VIEW_MAP)
def entrance(object_id: int) -> Response:
    with database.engine().begin() as conn:
        return json_response(show(conn, principal(), "entrance", object_id))


@bp.get("/api/v1/checkpoints/<int:object_id>")
@requires(Action.VIEW_MAP)
def checkpoint(object_id: int) -> Response:
    with database.engine().begin() as conn:
        return json_response(show(conn, principal(), "checkpoint", object_id))


def _set_state(kind: str, object_id: int) -> Response:
    change = params.validate(StateChangeParams, json_object())
    with database.engine().begin() as conn:
        return json_response(set_state(conn, principal(), kind, object_id, change))


@bp.patch("/api/v1/entrances/<int:object_id>")
@requires(Action.OPERATE)
def change_entrance(object_id: int) -> Response:
    """`{"state": "open|sealed|checkpoint", "version", "reason", "responsible", "effective_at"}`."""
    return _set_state("entrance", object_id)


@bp.patch("/api/v1/checkpoints/<int:object_id>")
@requires(Action.OPERATE)
def change_checkpoint(object_id: int) -> Response:
    """`{"state": "active|closed", "version", "reason", "responsible", "effective_at"}`."""
    return _set_state("checkpoint", object_id)


@bp.get("/api/v1/shifts/<int:shift_id>")
@requires(Action.VIEW_MAP)
def shift(shift_id: int) -> Response:
    with database.engine().begin() as conn:
        return json_response(show_shift(conn, principal(), shift_id))


def _shift_staff(shift_id: int, *, on: bool) -> Response:
    change = params.validate(ShiftStaffParams, json_object())
    with database.engine().begin() as conn:
        return json_response(change_shift_staff(conn, principal(), shift_id, change, on=on))


@bp.post("/api/v1/shifts/<int:shift_id>/staff")
@requires(Action.OPERATE)
def put_on_shift(shift_id: int) -> Response:
    """`{"staff", "version", "reason", "responsible", "effective_at"}`: put the person on
    the shift (from now, or from `effective_at`)."""
    return _shift_staff(shift_id, on=True)


@bp.delete("/api/v1/shifts/<int:shift_id>/staff")
@requires(Action.OPERATE)
def take_off_shift(shift_id: int) -> Response:
    """`{"staff", "version", "reason", "responsible", "effective_at"}`: take the person
    off the shift (from now, or from `effective_at`)."""
    return _shift_staff(shift_id, on=False)
