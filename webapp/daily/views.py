"""`/api/v1/daily/...` and the commanders' pages of the daily rhythm.

- `GET /api/v1/daily/reports?date=`: `{"expected", "reported", "on_time", "units"}` of the
  caller's units (admins, commanders, grid workers);
- `POST /api/v1/daily/reports` (`{"unit", "kind"?, "date"?, "zero"?, "note"?,
  "corrections"?}`): the unit's report confirmed, 201; 403 for a unit not the caller's, 400
  for a second confirmation (a change is an amendment) or a bad field;
- `POST /api/v1/daily/amendments` (`{"unit", "kind"?, "date"?, "note"?, "corrections"?,
  "take_in"?}`): an audited amendment of a confirmed report;
- `GET /api/v1/daily/tasks?date=&worker=`: the grid workers' task lists for a day (default
  tomorrow): a grid worker their own, commanders their grids' workers, admins all;
- `GET /daily/tasks?date=&worker=`: the same lists as a page for the phone and for printing;
- `GET /daily/board?date=`: the live "not yet reported" board for commanders and admins.

Everything goes through `geodata.services.daily` (scope, responsibility, audit). A session
needs its CSRF token (X-CSRFToken) to post; a bearer token not."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, render_template, request

from geodata.auth.access import Action
from geodata.params.base import RequestError
from geodata.records.town_settings import town_timezone
from geodata.services import daily as service
from webapp.infra import database
from webapp.infra.errors import error_response
from webapp.infra.params import json_object
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("daily", __name__)

KINDS = ("grid", "village", "combat_unit")


def _day(raw: object, today: date) -> date:
    if raw is None or raw == "":
        return today
    if not isinstance(raw, str):
        raise RequestError("date: a date such as 2026-03-01")
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise RequestError("date: a date such as 2026-03-01") from None


def _today(conn: Any) -> date:
    return datetime.now(UTC).astimezone(town_timezone(conn)).date()


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise RequestError(f"{name}: required")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise RequestError(f"{name}: a text")
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise RequestError(f"{name}: true or false")
    return value


def _kind(body: dict[str, Any]) -> str | None:
    kind = _text(body, "kind")
    if kind is not None and kind not in KINDS:
        raise RequestError(f"kind: one of {', '.join(KINDS)}")
    return kind


def _corrections(body: dict[str, Any]) -> dict[str, Any]:
    value = body.get("corrections", {})
    if not isinstance(value, dict):
        raise RequestError("corrections: an object of figure names and whole numbers")
    return value


def _known(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise RequestError(f"{unknown[0]}: unknown field")


def _not_yours(exc: Exception) -> Response:
    """403 naming the unit asked for (the caller's own words, no stored value)."""
    return error_response(403, str(exc))


@bp.get("/api/v1/daily/reports")
@requires(Action.VIEW_HOUSEHOLDS)
def reports() -> Response:
    """The day's expected units with status and figures (the caller's units)."""
    with database.engine().begin() as conn:
        day = _day(request.args.get("date"), _today(conn))
        return json_response(service.reports(conn, principal(), day))


@bp.post("/api/v1/daily/reports")
@requires(Action.VIEW_MAP)
def confirm() -> Response:
    body = json_object()
    _known(body, {"unit", "kind", "date", "zero", "note", "corrections"})
    unit = _text(body, "unit", required=True)
    assert unit is not None
    try:
        with database.engine().begin() as conn:
            made = service.confirm(conn, principal(), unit, _day(body.get("date"), _today(conn)),
                                   kind=_kind(body), zero=_flag(body, "zero"),
                                   note=_text(body, "note"),
                                   corrections=_corrections(body))  # fmt: skip
    except service.NotYourUnitError as exc:
        return _not_yours(exc)
    return json_response(made, status=201)


@bp.post("/api/v1/daily/amendments")
@requires(Action.VIEW_MAP)
def amend() -> Response:
    body = json_object()
    _known(body, {"unit", "kind", "date", "note", "corrections", "take_in"})
    unit = _text(body, "unit", required=True)
    assert unit is not None
    try:
        with database.engine().begin() as conn:
            made = service.amend(conn, principal(), unit, _day(body.get("date"), _today(conn)),
                                 kind=_kind(body), note=_text(body, "note"),
                                 corrections=_corrections(body),
                                 take_in=_flag(body, "take_in"))  # fmt: skip
    except service.NotYourUnitError as exc:
        return _not_yours(exc)
    return json_response(made)


@bp.get("/api/v1/daily/tasks")
@requires(Action.VIEW_HOUSEHOLDS)
def tasks() -> Response:
    """The grid workers' task lists for `?date=` (default tomorrow), `?worker=` one of them;
    a grid worker gets their own."""
    from datetime import timedelta

    worker = request.args.get("worker") or None
    with database.engine().begin() as conn:
        day = _day(request.args.get("date"), _today(conn) + timedelta(days=1))
        return json_response(service.tasks(conn, principal(), day, worker=worker))


@bp.get("/daily/tasks")
@requires(Action.VIEW_HOUSEHOLDS)
def tasks_page() -> str:
    """The task lists as a page for the phone and for printing (`?date=`, `?worker=`)."""
    from datetime import timedelta

    from webapp.infra.headers import csp_nonce

    worker = request.args.get("worker") or None
    with database.engine().begin() as conn:
        day = _day(request.args.get("date"), _today(conn) + timedelta(days=1))
        found = service.tasks(conn, principal(), day, worker=worker)
    return render_template("daily_tasks.html", found=found, nonce=csp_nonce())


@bp.get("/daily/board")
@requires(Action.OPERATE)
def board() -> str:
    """Which units have not yet reported today (or on `?date=`), refreshed every minute."""
    with database.engine().begin() as conn:
        day = _day(request.args.get("date"), _today(conn))
        found = service.reports(conn, principal(), day)
    missing = [u for u in found["units"] if u["status"] == "missing"]
    return render_template("daily_board.html", report=found, missing=missing)
