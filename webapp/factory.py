"""Builds the Flask app: configuration, extensions, blueprints."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine

from geodata import db
from geodata.settings import Settings
from webapp import (
    admin_views,
    auth_views,
    basemap,
    database,
    errors,
    headers,
    household_views,
    i18n,
    params,
    policy,
    visit_views,
)
from webapp.coverage_views import bp as coverage_bp
from webapp.export_views import init_app as init_exports
from webapp.health import health
from webapp.import_views import init_app as init_imports
from webapp.limits import limiter
from webapp.plan_views import bp as plan_bp
from webapp.secret_key import secret_key
from webapp.session_store import DatabaseSessionInterface
from webapp.tiles import bp as tiles_bp
from webapp.views import town_map

MAX_REQUEST_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Flask:
    """Build the app for `settings` (default: the environment).

    Without `engine`, one is made for the configured database (starting the embedded cluster
    if that is the one configured); a given engine is used as it is, and left to its owner.
    """
    settings = settings if settings is not None else Settings.from_env()
    if engine is None:
        engine = db.make_engine(db.database_url(settings))
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SECRET_KEY=secret_key(settings),
        # Secure cookies everywhere but the demo on plain-HTTP 127.0.0.1 and the tests.
        SESSION_COOKIE_SECURE=settings.env not in ("development", "testing"),
        RATELIMIT_ENABLED=True,
    )
    app.jinja_env.autoescape = True  # every template, whatever its file name
    app.session_interface = DatabaseSessionInterface()
    database.init_app(app, engine)
    headers.init_app(app)
    errors.init_app(app)
    policy.init_app(app)
    params.init_app(app)
    limiter.init_app(app)
    app.register_blueprint(health)
    app.register_blueprint(town_map)
    app.register_blueprint(tiles_bp)
    i18n.init_app(app)
    basemap.init_app(app, settings)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(household_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(visit_views.bp)
    init_imports(app, settings)
    app.register_blueprint(coverage_bp)
    app.register_blueprint(plan_bp)
    init_exports(app, settings)
    return app


__all__ = ["create_app"]
