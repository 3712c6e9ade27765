"""The app's two engines (the app role's, and the owner role's for imports), and one
connection per request: opened on first use, closed when the request ends."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine

_ENGINE_KEY = "wangge.engine"
_ADMIN_ENGINE_KEY = "wangge.admin_engine"


def init_app(app: Flask, engine: Engine, admin_engine: Engine) -> None:
    app.extensions[_ENGINE_KEY] = engine
    app.extensions[_ADMIN_ENGINE_KEY] = admin_engine
    app.teardown_appcontext(_close_connection)


def engine() -> Engine:
    """The engine of the current app."""
    found: Engine = current_app.extensions[_ENGINE_KEY]
    return found


def admin_engine() -> Engine:
    """The owner role's engine: imports load tables under row-level security."""
    found: Engine = current_app.extensions[_ADMIN_ENGINE_KEY]
    return found


def connection() -> Connection:
    """The current request's connection; whatever it did and did not commit is rolled back."""
    conn: Connection | None = g.get("db_connection")
    if conn is None:
        conn = engine().connect()
        g.db_connection = conn
    return conn


def _close_connection(_exc: BaseException | None) -> None:
    conn: Connection | None = g.pop("db_connection", None)
    if conn is not None:
        conn.close()
