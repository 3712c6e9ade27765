"""`/healthz`: is the app up, and can it reach its database."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.infra import database
from webapp.infra.policy import public
from webapp.infra.responses import json_response

bp = Blueprint("health", __name__)


def database_reachable() -> bool:
    try:
        database.connection().execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError as exc:
        current_app.logger.warning("health check: database unreachable: %s", exc)
        return False
    return True


@bp.get("/healthz")
@public
def healthz() -> Response:
    """Always 200 while the app answers; `database` says whether a query went through."""
    return json_response({"ok": True, "database": database_reachable()})
