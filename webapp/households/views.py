"""Households for those whose grid it is: listed, shown masked, one field revealed (audited)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from geodata import params
from geodata.auth.access import Action
from geodata.auth.masking import PersonalField
from geodata.records import households
from webapp.infra import database
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("households", __name__)


def _grid_filter() -> str | None:
    code = request.args.get("grid")
    return code.strip() if code else None


DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def _page() -> tuple[int, int]:
    """`limit` (at least 1, default 100; more than 1000 gives 1000) and `offset` (default 0):
    the pager of every list (geodata.params.PageParams), a refusal a 400."""
    page = params.page(request.args, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT)
    return page.limit, page.offset


@bp.get("/households")
@requires(Action.VIEW_HOUSEHOLDS)
def index() -> str:
    limit, offset = _page()
    with database.engine().begin() as conn:
        rows = households.list_households(
            conn, principal(), grid_code=_grid_filter(), limit=limit, offset=offset
        )
    return render_template("households.html", rows=rows, who=principal())


@bp.get("/households/<int:household_id>")
@requires(Action.VIEW_HOUSEHOLDS)
def show(household_id: int) -> str:
    with database.engine().begin() as conn:
        detail = households.household_detail(conn, principal(), household_id)
    return render_template(
        "household.html",
        h=detail,
        can_reveal=principal().can(Action.REVEAL_PERSONAL),
        who=principal(),
    )


@bp.get("/api/v1/households")
@requires(Action.VIEW_HOUSEHOLDS)
def api_list() -> Response:
    limit, offset = _page()
    with database.engine().begin() as conn:
        rows = households.list_households(
            conn, principal(), grid_code=_grid_filter(), limit=limit, offset=offset
        )
    return json_response({"households": rows, "limit": limit, "offset": offset})


@bp.get("/api/v1/households/<int:household_id>")
@requires(Action.VIEW_HOUSEHOLDS)
def api_show(household_id: int) -> Response:
    with database.engine().begin() as conn:
        return json_response(households.household_detail(conn, principal(), household_id))


@bp.post("/api/v1/residents/<int:resident_id>/reveal")
@requires(Action.REVEAL_PERSONAL)
def api_reveal(resident_id: int) -> Response:
    body = request.get_json(silent=True) or {}
    raw = body.get("field") if isinstance(body, dict) else None
    if raw is None:
        raw = request.form.get("field")
    try:
        field = PersonalField(str(raw))
    except ValueError:
        abort(400, "field: one of name, id_number, phone")
    with database.engine().begin() as conn:
        value = households.reveal(conn, principal(), resident_id, field)
    response = json_response({"resident": resident_id, "field": field.value, "value": value})
    response.headers["Cache-Control"] = "no-store"
    return response
