"""Builds the Flask app: configuration, the infrastructure, then every blueprint from one list."""

from __future__ import annotations

from flask import Blueprint, Flask
from sqlalchemy import Engine

from geodata import db
from geodata.settings import Settings
from webapp import (
    admin,
    auth,
    campaigns,
    coverage,
    daily,
    enterprises,
    exports,
    field,
    health,
    households,
    imports,
    isolation,
    map,
    ogc,
    operations,
    patrols,
    people,
    plan,
    quarantines,
    supervision,
    tiles,
    visits,
)
from webapp.daily import summary as daily_summary
from webapp.infra import (
    basemap,
    database,
    errors,
    headers,
    i18n,
    labels,
    metrics,
    params,
    policy,
    pseudonym_key,
    request_log,
)
from webapp.infra.limits import limiter
from webapp.infra.secret_key import secret_key
from webapp.infra.sessions import DatabaseSessionInterface

MAX_REQUEST_BYTES = 1024 * 1024

BLUEPRINTS: tuple[Blueprint, ...] = (
    health.bp,
    map.bp,
    tiles.bp,
    auth.bp,
    households.bp,
    admin.bp,
    visits.bp,
    imports.bp,
    coverage.bp,
    plan.bp,
    patrols.bp,
    exports.bp,
    ogc.bp,
    operations.bp,
    supervision.bp,
    people.bp,
    quarantines.bp,
    campaigns.bp,
    isolation.bp,
    field.bp,
    daily.bp,
    daily_summary.bp,
    enterprises.bp,
)
"""Every blueprint of the app; each package of webapp/ but infra/ exports its `bp`."""


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    admin_engine: Engine | None = None,
) -> Flask:
    """Build the app for `settings` (default: the environment).

    `engine` is the app role's, `admin_engine` the owner role's (imports). Each one not given
    is made for the configured database (starting the embedded cluster if that is the one
    configured); a given engine is used as it is, and left to its owner.
    """
    settings = settings if settings is not None else Settings.from_env()
    if engine is None:
        engine = db.make_engine(db.database_url(settings))
    if admin_engine is None:
        admin_engine = db.make_engine(db.database_url(settings, admin=True))
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
    database.init_app(app, engine, admin_engine)
    request_log.init_app(app)  # first: every answer, refusals included, is logged and counted
    metrics.init_app(app, {"app": engine, "admin": admin_engine})
    pseudonym_key.init_app(app, settings)
    headers.init_app(app)
    errors.init_app(app)
    policy.init_app(app)
    params.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    basemap.init_app(app, settings)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


__all__ = ["create_app"]
