"""`GET /api/v1/risk-areas`, `GET /api/v1/enterprises?state=`, `GET
/api/v1/enterprise-reviews?enterprise=`, `POST /api/v1/enterprises/<source_id>/reviews`,
`GET|POST /api/v1/passes` (masked; `?reveal=1` by
right, audited), `GET /api/v1/publicity-points?unchecked=1&at=` and `POST
/api/v1/publicity-points/<source_id>/checks`. Everything goes through
`geodata.services.enterprises`, `passes` and `publicity` (rights, village scope, audit); a
refusal answers 400 naming the record, the field and the reason."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, request

from geodata.auth.access import Action
from geodata.identifiers import identifier_problem
from geodata.records.as_of import parse_as_of
from geodata.records.enterprise_reviews import Review
from geodata.records.passes import PassFields
from geodata.records.refusal import RecordRefused
from geodata.records.risk_areas import parse_day
from geodata.services import enterprises, passes, publicity
from webapp.infra import database
from webapp.infra.params import json_object
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("enterprises", __name__)
_TRUE = ("1", "true", "yes", "on")


def _text(body: dict[str, Any], record: str, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordRefused(f"{record}: {name}: a text")
    if "\x00" in value:
        raise RecordRefused(f"{record}: {name}: holds a NUL character")
    return value


def _arg(name: str) -> str | None:
    """A query parameter naming a record (None when absent or empty)."""
    value = request.args.get(name) or None
    if value is not None and identifier_problem(value) is not None:
        raise RecordRefused(f"{name}: {identifier_problem(value)}")
    return value


def _day(body: dict[str, Any], record: str, name: str) -> date | None:
    return parse_day(record, name, _text(body, record, name))


def _moment(raw: str | None) -> datetime | None:
    return None if raw is None or not raw.strip() else parse_as_of(raw)


@bp.get("/api/v1/risk-areas")
@requires(Action.VIEW_MAP)
def risk_areas() -> Response:
    with database.engine().begin() as conn:
        found = enterprises.list_risk_areas(conn, principal())
    return json_response({"risk_areas": found})


@bp.get("/api/v1/enterprises")
@requires(Action.VIEW_MAP)
def list_enterprises() -> Response:
    state = _arg("state")
    with database.engine().begin() as conn:
        found = enterprises.list_enterprises(conn, principal(), state=state)
    return json_response({"enterprises": found})


@bp.get("/api/v1/enterprise-reviews")
@requires(Action.VIEW_MAP)
def reviews() -> Response:
    enterprise = _arg("enterprise")
    if enterprise is None:
        raise RecordRefused("enterprise: required (a source id)")
    with database.engine().begin() as conn:
        return json_response(enterprises.reviews(conn, principal(), enterprise))


@bp.post("/api/v1/enterprises/<source_id>/reviews")
@requires(Action.OPERATE)
def review(source_id: str) -> Response:
    body = json_object()
    if identifier_problem(source_id) is not None:
        raise RecordRefused(f"enterprise: source_id: {identifier_problem(source_id)}")
    record = f"review of enterprise {source_id!r}"
    met = body.get("met", [])
    if not isinstance(met, list) or not all(isinstance(m, str) for m in met):
        raise RecordRefused(f"{record}: met: a list of checklist items")
    with database.engine().begin() as conn:
        given = Review(
            decision=_text(body, record, "decision") or "",
            checklist=dict.fromkeys(met, True),
            reviewed_on=_day(body, record, "reviewed_on") or enterprises.town_today(conn),
            conditions=_text(body, record, "conditions"),
        )
        review_id = enterprises.review(conn, principal(), source_id, given)
        found = enterprises.reviews(conn, principal(), source_id)
    return json_response({"id": review_id, **found}, status=201)


@bp.get("/api/v1/passes")
@requires(Action.VIEW_HOUSEHOLDS)
def list_passes() -> Response:
    reveal = request.args.get("reveal", "").strip().lower() in _TRUE
    with database.engine().begin() as conn:
        found = passes.list_passes(conn, principal(), enterprise=_arg("enterprise"), reveal=reveal)
    return json_response({"passes": found})


@bp.post("/api/v1/passes")
@requires(Action.OPERATE)
def issue() -> Response:
    body = json_object()
    number = _text(body, "pass", "number") or ""
    record = f"pass {number!r}"
    fields = PassFields(
        enterprise=_text(body, record, "enterprise") or "",
        resident=_text(body, record, "resident"),
        name=_text(body, record, "name"),
        id_number=_text(body, record, "id_number"),
        valid_from=_day(body, record, "valid_from"),
        valid_until=_day(body, record, "valid_until"),
    )
    with database.engine().begin() as conn:
        outcome, pass_id = passes.issue(conn, principal(), number, fields)
    status = 201 if outcome == "inserted" else 200
    return json_response({"id": pass_id, "number": number, "outcome": outcome}, status=status)


@bp.get("/api/v1/publicity-points")
@requires(Action.VIEW_MAP)
def list_points() -> Response:
    only = request.args.get("unchecked", "").strip().lower() in _TRUE
    with database.engine().begin() as conn:
        found = publicity.list_points(
            conn, principal(), at=_moment(request.args.get("at")), unchecked_only=only
        )
    return json_response(found)


@bp.post("/api/v1/publicity-points/<source_id>/checks")
@requires(Action.VIEW_MAP)
def check(source_id: str) -> Response:
    body = json_object() if request.get_data() else {}
    if identifier_problem(source_id) is not None:
        raise RecordRefused(f"publicity point: source_id: {identifier_problem(source_id)}")
    at = _text(body, f"publicity check of {source_id!r}", "at")
    with database.engine().begin() as conn:
        publicity.check(conn, principal(), source_id, at=_moment(at))
    return json_response({"checked": source_id}, status=201)
