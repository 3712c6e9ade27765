"""Engines for the configured database (the embedded cluster by default)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url

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


def make_engine(url: URL | str, **kwargs: object) -> Engine:
    """An engine that survives a database restart (each pooled connection is pinged before
    use), waits a bounded time for the pool, and never puts a statement's parameters (names,
    ID numbers) into an error's message, which may reach a log."""
    options: dict[str, object] = {
        "pool_pre_ping": True,
        "pool_timeout": POOL_TIMEOUT_S,
        "hide_parameters": True,
    }
    options.update(kwargs)
    return create_engine(url, **options)
