"""Errors become generic answers, never a stack trace: JSON under /api/, a short page elsewhere.

Domain errors of `geodata` map to HTTP statuses here and only here.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from geodata.analysis.placement.covering import PlacementError
from geodata.auth.access import ForbiddenError
from geodata.auth.accounts import AccountError
from geodata.errors import ClusterError, ConfigError, ConflictError, NotFoundError, WanggeError
from geodata.exports.run import ExportError
from geodata.imports.report import FileRefused
from geodata.records.refusal import RecordRefused
from geodata.services.operations import OperationRefused, StaleVersion
from webapp.infra.responses import json_response

_NOT_FOUND = "Nothing is known here under that name."
_UNAVAILABLE = "The database is not reachable at the moment. Try again shortly."
_FORBIDDEN = "Your role may not do this."
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


BAD_INPUT: tuple[type[WanggeError], ...] = (
    ConfigError,  # RequestError, IdentifierError, DisclosureError among them
    ExportError,
    PlacementError,
    AccountError,
    FileRefused,
    OperationRefused,
    RecordRefused,
)
"""The caller's bad input or usage (exit code 1 or 2): 400 with our own message, which names
the field and the reason and never echoes a stored value."""

STATUSES: tuple[tuple[type[WanggeError], int], ...] = (
    (NotFoundError, 404),
    (ForbiddenError, 403),
    (StaleVersion, 409),
    (ConflictError, 409),
    *((kind, 400) for kind in BAD_INPUT),
    (ClusterError, 503),
)
"""Every domain error's HTTP status, by class (the first that matches); anything else is 500."""


def status_for(exc: WanggeError) -> int:
    """The HTTP status of a domain error: the one place where they are chosen."""
    return next((status for kind, status in STATUSES if isinstance(exc, kind)), 500)


def _domain_error(exc: WanggeError) -> Response:
    status = status_for(exc)
    if status == 404:
        return error_response(404, _NOT_FOUND)
    if status == 403:
        return error_response(403, _FORBIDDEN)
    if status == 400:
        return error_response(400, str(exc))
    if isinstance(exc, StaleVersion):  # the object as it is now, to read again
        response = error_response(409, str(exc))
        if _wants_json():
            response = json_response(
                {"error": "Conflict", "message": str(exc), "current": exc.current}, status=409
            )
        return response
    if status == 409:
        return error_response(409, str(exc))
    if status == 503:
        return _database_unavailable(exc)
    current_app.logger.error("domain error: %s", exc)
    return error_response(500, _INTERNAL)


RETRY_AFTER_S = 2
"""What a 503 asks the caller to wait: a held pool or a restarting database is seconds away."""


def _database_unavailable(exc: Exception) -> Response:
    # The class only: a driver's message may quote a stored value (a key's DETAIL).
    current_app.logger.warning("database unavailable: %s", type(exc).__name__)
    response = error_response(503, _UNAVAILABLE)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, _INTERNAL)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(WanggeError, _domain_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(PoolTimeoutError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected)
