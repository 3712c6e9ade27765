"""Errors become generic answers, never a stack trace: JSON under /api/, a short page elsewhere.

Domain errors of `geodata` map to HTTP statuses here and only here.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from geodata.auth.access import ForbiddenError
from geodata.errors import ClusterError, ConfigError, NotFoundError, WanggeError
from webapp.infra.responses import json_response

_NOT_FOUND = "Nothing is known here under that name."
_UNAVAILABLE = "The database is not reachable at the moment. Try again shortly."
_INTERNAL = "Something went wrong on the server. The error has been logged."


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, message: str) -> Response:
    """A generic error answer: a status, its title and a message written for people."""
    title = HTTP_STATUS_CODES.get(status, "Error")
    if _wants_json():
        return json_response({"error": title, "message": message}, status=status)
    page = render_template("error.html", status=status, title=title, message=message)
    return Response(page, status=status, mimetype="text/html")


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    # Werkzeug's descriptions are fixed texts (or ours, as with a bad bbox); none echoes input.
    message = exc.description if status < 500 and exc.description else _INTERNAL
    response = error_response(status, message)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # e.g. Allow on 405
    return response


def _domain_error(exc: WanggeError) -> Response:
    if isinstance(exc, NotFoundError):
        return error_response(404, _NOT_FOUND)
    if isinstance(exc, ClusterError):
        current_app.logger.warning("database unavailable: %s", exc)
        return error_response(503, _UNAVAILABLE)
    if isinstance(exc, ForbiddenError):
        return error_response(403, "Your role may not do this.")
    if isinstance(exc, ConfigError):
        # Our own messages about the request's fields; they never echo stored values.
        return error_response(400, str(exc))
    current_app.logger.error("domain error: %s", exc)
    return error_response(500, _INTERNAL)


def _database_unavailable(exc: Exception) -> Response:
    current_app.logger.warning("database unavailable: %s", exc)
    return error_response(503, _UNAVAILABLE)


def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, _INTERNAL)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(WanggeError, _domain_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(PoolTimeoutError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected)
