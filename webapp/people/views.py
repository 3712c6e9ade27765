"""The people page: the staff, teams and next day's shifts of the principal's villages, with
forms (CSRF) to add, edit and retire people and teams, add shifts and put people on them.
Everything goes through `geodata.services.people` (commanders manage their villages only;
every change and every list of people audited). Phones are shown masked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from flask import Blueprint, redirect, render_template, request, url_for
from pydantic import BaseModel
from werkzeug.wrappers import Response as WerkzeugResponse

from geodata import params
from geodata.auth.access import Action
from geodata.auth.masking import mask_phone
from geodata.params.people import (
    AssignmentParams,
    RetireParams,
    ShiftParams,
    StaffEditParams,
    StaffParams,
    TeamParams,
)
from geodata.services import people as service
from geodata.vocab import StaffRole, TeamKind
from webapp.infra import database
from webapp.infra.policy import principal, requires

bp = Blueprint("people", __name__)
M = TypeVar("M", bound=BaseModel)

SHIFTS_AHEAD = timedelta(hours=24)


def _form(model: type[M]) -> M:
    """The model's fields as typed in the form (blank ones left for the model)."""
    fields = {name: request.form.get(name, "") for name in model.model_fields}
    return params.validate(model, {k: v for k, v in fields.items() if k in request.form})


def _back() -> WerkzeugResponse:
    village = request.form.get("back_village", "").strip()
    return redirect(url_for("people.page", village=village or None), code=303)


@bp.get("/people")
@requires(Action.MANAGE_PEOPLE)
def page() -> str:
    village = request.args.get("village", "").strip() or None
    now = datetime.now(UTC)
    with database.engine().begin() as conn:
        villages = service.village_codes(conn, principal())
        staff = service.list_staff(conn, principal(), village=village)
        teams = service.list_teams(conn, principal(), village=village)
        shifts = service.list_shifts(conn, principal(), start=now, end=now + SHIFTS_AHEAD)
    return render_template(
        "people.html",
        village=village,
        villages=villages,
        staff=[{**s, "phone": mask_phone(s["phone"])} for s in staff],
        teams=teams,
        shifts=shifts,
        roles=[r.value for r in StaffRole],
        kinds=[k.value for k in TeamKind],
        who=principal(),
    )


def _change(model: type[BaseModel], work: Any) -> WerkzeugResponse:
    asked = _form(model)
    with database.engine().begin() as conn:
        work(conn, asked)
    return _back()


@bp.post("/people/staff")
@requires(Action.MANAGE_PEOPLE)
def add_staff() -> WerkzeugResponse:
    def work(conn: Any, p: StaffParams) -> None:
        service.add_staff(conn, principal(), p.source_id, name=p.name, role=p.role,
                          village=p.village, team=p.team, grid=p.grid, phone=p.phone)  # fmt: skip

    return _change(StaffParams, work)


@bp.post("/people/staff/edit")
@requires(Action.MANAGE_PEOPLE)
def edit_staff() -> WerkzeugResponse:
    def work(conn: Any, p: StaffEditParams) -> None:
        service.edit_staff(conn, principal(), p.source_id, name=p.name, role=p.role,
                           team=p.team, grid=p.grid, phone=p.phone)  # fmt: skip

    return _change(StaffEditParams, work)


@bp.post("/people/staff/retire")
@requires(Action.MANAGE_PEOPLE)
def retire_staff() -> WerkzeugResponse:
    return _change(RetireParams, lambda c, p: service.retire_staff(c, principal(), p.source_id))


@bp.post("/people/teams")
@requires(Action.MANAGE_PEOPLE)
def add_team() -> WerkzeugResponse:
    def work(conn: Any, p: TeamParams) -> None:
        service.add_team(conn, principal(), p.source_id, name=p.name, kind=p.kind,
                         village=p.village, parent=p.parent)  # fmt: skip

    return _change(TeamParams, work)


@bp.post("/people/teams/retire")
@requires(Action.MANAGE_PEOPLE)
def retire_team() -> WerkzeugResponse:
    return _change(RetireParams, lambda c, p: service.retire_team(c, principal(), p.source_id))


@bp.post("/people/shifts")
@requires(Action.MANAGE_PEOPLE)
def add_shift() -> WerkzeugResponse:
    def work(conn: Any, p: ShiftParams) -> None:
        service.add_shift(conn, principal(), p.source_id, checkpoint=p.checkpoint,
                          starts_at=p.starts_at, ends_at=p.ends_at)  # fmt: skip

    return _change(ShiftParams, work)


@bp.post("/people/shifts/assign")
@requires(Action.MANAGE_PEOPLE)
def assign() -> WerkzeugResponse:
    return _change(AssignmentParams, lambda c, p: service.assign(c, principal(), p.shift, p.staff))


@bp.post("/people/shifts/unassign")
@requires(Action.MANAGE_PEOPLE)
def unassign() -> WerkzeugResponse:
    return _change(
        AssignmentParams, lambda c, p: service.unassign(c, principal(), p.shift, p.staff)
    )
