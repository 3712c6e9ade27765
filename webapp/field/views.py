"""The field app's pages and its manifest and service worker.

`/field/` is the app shell (cards drawn by `static/field/app.js` from the day's list);
`/field/sw.js` is served from here so that its scope is `/field/`; the day's list and the
session (user and CSRF token) are JSON under `/api/v1/field/`.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_wtf.csrf import generate_csrf

from geodata.auth.access import Action
from geodata.records import due_visits
from webapp.infra import database
from webapp.infra.policy import principal, public, requires
from webapp.infra.responses import json_response

bp = Blueprint("field", __name__)

ICONS = (("field/icon-192.png", "192x192"), ("field/icon-512.png", "512x512"))


@bp.get("/field/")
@requires(Action.EDIT_HOUSEHOLDS)
def page() -> str:
    return render_template("field/index.html", who=principal())


@bp.get("/field/sw.js")
@public
def service_worker() -> Response:
    """The service worker, from the field's own path so that it may control `/field/`."""
    assert current_app.static_folder is not None
    script = Path(current_app.static_folder, "field", "sw.js").read_bytes()
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/field/"
    return response


@bp.get("/field/manifest.webmanifest")
@public
def manifest() -> Response:
    body = {
        "name": "网格走访 wangge field",
        "short_name": "走访",
        "lang": "zh-CN",
        "start_url": url_for("field.page"),
        "scope": url_for("field.page"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b91c1c",
        "icons": [
            {"src": url_for("static", filename=path), "sizes": sizes, "type": "image/png"}
            for path, sizes in ICONS
        ],
    }
    response = json_response(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/api/v1/field/today")
@requires(Action.EDIT_HOUSEHOLDS)
def today() -> Response:
    """The households of the worker's own grids due today, with addresses and the people
    whose temperature is taken."""
    who = principal()
    with database.engine().begin() as conn:
        day = due_visits.field_day(conn, who)
    return json_response({"user": who.name, **day})


@bp.get("/api/v1/field/session")
@requires(Action.EDIT_HOUSEHOLDS)
def session_info() -> Response:
    """Who is signed in and a CSRF token for the sync (asked before each round of it)."""
    return json_response({"user": principal().name, "csrf_token": generate_csrf()})
