"""Engines for the configured database (the embedded cluster by default)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Dialect, Engine, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from geodata.db.cluster import OWNER_ROLE, LocalCluster
from geodata.settings import Settings


def database_url(settings: Settings, *, admin: bool = False) -> URL:
    """The URL of the app role (or, with admin=True, of the owner role used for migrations)."""
    if settings.database_url is not None:
        if admin and settings.admin_database_url:
            return make_url(settings.admin_database_url)
        return make_url(settings.database_url)
    cluster = LocalCluster(settings.home)
    if not cluster.running:
        cluster.up()
    return cluster.url(role=OWNER_ROLE) if admin else cluster.url()


POOL_TIMEOUT_S = 1.0
"""How long a request waits for a pooled connection before it is answered 503 (with every
connection held, the caller hears within 2 s, and retries after Retry-After)."""


PING_IDLE_S = 1.0
"""A pooled connection idle longer than this is pinged before use; one used more recently is
trusted, so a busy process sends no pings (they were 15 % of its time under load)."""

DISCONNECT_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
"""The server shut the session down (admin or crash shutdown, not accepting connections):
like the connection errors (class 08), the pool must replace the connection."""


def make_engine(url: URL | str, **kwargs: object) -> Engine:
    """An engine that survives a database restart, waits a bounded time for the pool, and
    never puts a statement's parameters (names, ID numbers) into an error's message, which
    may reach a log.

    A restart is handled on first use rather than by pinging every checkout: a connection
    idle in the pool for over PING_IDLE_S is pinged (and replaced when dead); one that fails
    anyway is a disconnect, which invalidates the whole pool, so the request that met it is
    answered 503 and the next checkout gets a fresh connection."""
    options: dict[str, object] = {"pool_timeout": POOL_TIMEOUT_S, "hide_parameters": True}
    options.update(kwargs)
    engine = create_engine(url, **options)
    event.listen(engine.pool, "checkin", _idle_from_now)
    event.listen(engine.pool, "checkout", _ping_if_idle(engine.dialect))
    event.listen(engine, "handle_error", _flag_disconnect)
    return engine


def _idle_from_now(dbapi_connection: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
    if dbapi_connection is not None:
        record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect: Dialect) -> Callable[..., None]:
    def checkout(
        dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: object
    ) -> None:
        # A new connection has no idle_since (the info of a replaced one goes with it).
        idle_since: float | None = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_IDLE_S:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: the pool retries with a new connection
            raise DisconnectionError from exc
        if not alive:
            raise DisconnectionError

    return checkout


def _flag_disconnect(context: ExceptionContext) -> None:
    """A session ended by the server is a disconnect even where the driver has not yet
    marked the connection broken: the pool is invalidated instead of handing it out again."""
    sqlstate = getattr(context.original_exception, "sqlstate", None)
    if isinstance(sqlstate, str) and (
        sqlstate.startswith("08") or sqlstate in DISCONNECT_SQLSTATES
    ):
        context.is_disconnect = True
