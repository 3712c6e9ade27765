"""Rate limits (Flask-Limiter): login attempts per IP and per account, counted in PostgreSQL
(`rate_limit_counts`) so that the limit holds across every process serving the app."""

from __future__ import annotations

import time

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage
from sqlalchemy.exc import SQLAlchemyError

from geodata.auth import rate_limits
from webapp.infra import database

STORAGE_URI = "wangge-postgresql://"


class DatabaseStorage(Storage):
    """Fixed-window counts in the app's database: each call commits on a connection of its own
    (never the request's, whose transaction may roll back)."""

    STORAGE_SCHEME = ["wangge-postgresql"]  # noqa: RUF012 (read once by limits' registry)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: object):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with database.engine().begin() as conn:
            return rate_limits.increment(conn, key, expiry_s=expiry, amount=amount)

    def get(self, key: str) -> int:
        with database.engine().connect() as conn:
            return rate_limits.hits(conn, key)

    def get_expiry(self, key: str) -> float:
        with database.engine().connect() as conn:
            found = rate_limits.expiry_epoch_s(conn, key)
        return found if found is not None else time.time()

    def check(self) -> bool:
        try:
            with database.engine().connect() as conn:
                rate_limits.hits(conn, "")
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with database.engine().begin() as conn:
            return rate_limits.clear(conn)

    def clear(self, key: str) -> None:
        with database.engine().begin() as conn:
            rate_limits.clear(conn, key)


limiter = Limiter(key_func=get_remote_address, storage_uri=STORAGE_URI, default_limits=[])

LOGIN_PER_IP = "20 per minute"
LOGIN_PER_ACCOUNT = "5 per minute"


def account_key() -> str:
    """Attempts against one account count together, from whatever address."""
    return "account:" + (request.form.get("username") or "").strip().lower()
