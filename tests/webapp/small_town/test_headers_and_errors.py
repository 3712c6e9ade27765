"""Security headers, caching, errors that tell nothing, health, the app factory and
autoescaped templates."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient

from geodata import db
from tests import conftest
from tests.webapp.small_town_data import XSS_CHECKPOINT, XSS_VILLAGE, csp_of
from webapp import create_app
from webapp.infra import database
from webapp.infra.policy import public

# -- headers, errors, health --------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/layers",
        "/api/layers/villages.geojson",
        "/healthz",
        "/nowhere",
        "/static/map/town-map.js",
    ],
)
def test_security_headers_on_every_response(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    csp = csp_of(response)
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    for directive, sources in csp.items():
        for source in sources.split():
            assert source in ("'self'", "'none'") or source.startswith("'nonce-"), (
                directive,
                source,
            )
    response.close()


def test_api_answers_are_not_cached(client: FlaskClient) -> None:
    assert client.get("/api/layers/villages.geojson").headers["Cache-Control"] == "no-store"
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_not_found_page_is_generic(client: FlaskClient) -> None:
    response = client.get("/nowhere/<script>alert(3)</script>")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "404 Not Found" in body
    assert "alert(3)" not in body
    assert "Traceback" not in body


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.post("/api/layers/villages.geojson")
    assert response.status_code == 405
    assert "GET" in response.allow
    assert response.get_json()["error"] == "Method Not Allowed"


def test_server_errors_are_generic(throwaway_db: conftest.TestDatabase) -> None:
    app = create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )

    def fail() -> str:
        raise RuntimeError("secret detail from deep inside")

    app.add_url_rule("/boom", view_func=public(fail))
    app.add_url_rule("/api/boom", endpoint="api_boom", view_func=fail)
    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    assert page.mimetype == "text/html"
    api = client.get("/api/boom")
    assert api.status_code == 500
    assert api.get_json() == {
        "error": "Internal Server Error",
        "message": "Something went wrong on the server. The error has been logged.",
    }
    for response in (page, api):
        body = response.get_data(as_text=True)
        assert "secret detail" not in body
        assert "Traceback" not in body
        assert "RuntimeError" not in body
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "database": True}


def test_healthz_without_a_database(throwaway_db: conftest.TestDatabase) -> None:
    engine = db.make_engine("postgresql+psycopg://nobody@/nowhere?host=/nonexistent-socket-dir")
    try:
        app = create_app(throwaway_db.settings, engine=engine)
        response = app.test_client().get("/healthz")
        assert response.status_code == 200
        assert response.get_json() == {"ok": True, "database": False}
        layer = app.test_client().get(
            "/api/layers/villages.geojson", headers={"Authorization": "Bearer wgt_any"}
        )
        assert layer.status_code == 503
        assert layer.get_json()["error"] == "Service Unavailable"
    finally:
        engine.dispose()


def test_create_app_builds_its_engine_from_settings(
    throwaway_db: conftest.TestDatabase,
) -> None:
    app = create_app(throwaway_db.settings)
    assert app.test_client().get("/healthz").get_json() == {"ok": True, "database": True}
    with app.app_context():
        engine = database.engine()
        assert engine is not throwaway_db.app
        engine.dispose()


def test_templates_autoescape(app: Flask) -> None:
    """Our page templates write values from the database as text, never as markup."""
    row = {
        "id": 1,
        "grid": XSS_CHECKPOINT,
        "unit": XSS_VILLAGE,
        "room": "<b>3</b>",
        "members": 2,
        "status": "normal",
    }
    with app.test_request_context("/households"):
        page = render_template("households.html", rows=[row], who=SimpleNamespace(name="<i>w</i>"))
        error = render_template("error.html", status=400, title=XSS_VILLAGE, message="<b>m</b>")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "&lt;b&gt;3&lt;/b&gt;" in page
    assert "&lt;i&gt;w&lt;/i&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in error
    assert "&lt;b&gt;m&lt;/b&gt;" in error
    for html in (page, error):
        for markup in ("<img src=x", "<script>alert", "<b>3", "<b>m", "<i>w"):
            assert markup not in html
