"""`/healthz` (is the app up), `/readyz` (can it serve: its database answers) and `/metrics`
(Prometheus, for admins or from the machine itself)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from geodata.vocab import Role
from webapp.infra import database, metrics
from webapp.infra.policy import current_principal, public
from webapp.infra.responses import json_response

bp = Blueprint("health", __name__)

LOOPBACK = frozenset({"127.0.0.1", "::1"})
RETRY_AFTER_S = 2


def database_reachable() -> bool:
    try:
        database.connection().execute(text("SELECT 1")).scalar_one()
    except (SQLAlchemyError, PoolTimeoutError) as exc:
        current_app.logger.warning("health check: database unreachable: %s", type(exc).__name__)
        return False
    return True


@bp.get("/healthz")
@public
def healthz() -> Response:
    """Always 200 while the app answers; `database` says whether a query went through."""
    return json_response({"ok": True, "database": database_reachable()})


@bp.get("/readyz")
@public
def readyz() -> Response:
    """200 when the database answers a query; 503 with Retry-After when it does not (a load
    balancer sends no traffic here until it does)."""
    if database_reachable():
        return json_response({"ready": True, "database": True})
    response = json_response({"ready": False, "database": False}, status=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


@bp.get("/metrics")
@public
def metrics_page() -> Response:
    """Prometheus text format; from 127.0.0.1 (the scraper on the machine) or for an admin."""
    caller = current_principal()
    if request.remote_addr not in LOOPBACK and (caller is None or caller.role != Role.ADMIN):
        abort(403)
    body, media_type = metrics.exposition(
        {"app": database.engine(), "admin": database.admin_engine()}
    )
    return Response(body, mimetype=None, content_type=media_type)
