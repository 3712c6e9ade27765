"""The engine pings only a connection that sat idle in the pool, replaces a dead one before
use when it does, and otherwise meets a dead connection on first use: that error
invalidates the pool and the next checkout gets a fresh connection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from geodata import db
from tests.conftest import TestDatabase


@pytest.fixture
def engine(test_db: TestDatabase) -> Iterator[Engine]:
    assert test_db.settings.database_url
    found = db.make_engine(test_db.settings.database_url)
    yield found
    found.dispose()


@pytest.fixture
def pings(engine: Engine) -> list[int]:
    """One entry per ping the engine's dialect sends."""
    sent: list[int] = []
    ping: Callable[[Any], bool] = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        sent.append(1)
        return ping(dbapi_connection)

    setattr(engine.dialect, "do_ping", counted)  # noqa: B010 (mypy refuses assigning a method)
    return sent


def _pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kill(test_db: TestDatabase, pid: int) -> None:
    """End a session as the server does at a shutdown (57P01), from another connection."""
    assert test_db.settings.database_url
    killer = db.make_engine(test_db.settings.database_url)
    try:
        with killer.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        killer.dispose()


def test_a_connection_used_within_the_idle_limit_is_not_pinged(
    engine: Engine, pings: list[int]
) -> None:
    first = _pid(engine)
    assert _pid(engine) == first  # the same pooled connection, reused
    assert pings == []


def test_an_idle_dead_connection_is_replaced_before_use(
    engine: Engine, pings: list[int], test_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = _pid(engine)
    _kill(test_db, dead)
    monkeypatch.setattr(db, "PING_IDLE_S", 0.0)  # every pooled connection counts as idle
    assert _pid(engine) != dead  # no error: the ping found it dead, the pool replaced it
    assert len(pings) == 1


def test_a_dead_connection_met_on_first_use_is_an_error_once(
    engine: Engine, pings: list[int], test_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_IDLE_S", 3600.0)  # no pings
    dead = _pid(engine)
    _pid(engine)  # a second connection would be pooled too if the first were still out
    _kill(test_db, dead)
    with pytest.raises(OperationalError) as raised, engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert raised.value.connection_invalidated
    assert _pid(engine) != dead  # the next checkout: a fresh connection
    assert pings == []


@pytest.mark.parametrize(
    ("sqlstate", "disconnect"),
    [("57P01", True), ("57P02", True), ("08006", True), ("57014", False), ("23505", False)],
)
def test_a_session_ended_by_the_server_counts_as_a_disconnect(
    sqlstate: str, *, disconnect: bool
) -> None:
    # 57014 is a statement timeout or a cancel: the connection is fine and stays.
    error = SimpleNamespace(sqlstate=sqlstate)
    context = SimpleNamespace(original_exception=error, is_disconnect=False)
    db._flag_disconnect(context)  # type: ignore[arg-type]
    assert context.is_disconnect is disconnect
