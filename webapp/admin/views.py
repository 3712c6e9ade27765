"""Admin pages: the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, abort, render_template, request

from geodata.auth import audit
from geodata.auth.access import Action
from webapp.infra import database
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("admin", __name__)


def _since() -> datetime:
    raw = request.args.get("since")
    if not raw:
        return datetime.now(UTC) - timedelta(days=1)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        abort(400, "since: an ISO date or date-time")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _events() -> list[dict[str, object]]:
    with database.engine().begin() as conn:
        events = audit.events_since(conn, _since(), limit=1000)
        audit.record(conn, actor=principal().name, action="audit_read", row_count=len(events))
    return events


@bp.get("/admin/audit")
@requires(Action.VIEW_AUDIT)
def audit_page() -> str:
    return render_template("audit.html", events=_events(), who=principal())


@bp.get("/api/v1/audit")
@requires(Action.VIEW_AUDIT)
def audit_api() -> Response:
    return json_response({"events": _events()})
