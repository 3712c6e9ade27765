"""The row-level scope of a transaction: set with the transaction's BEGIN in one round trip
when it comes first, ended with the transaction, and a dead connection met there a disconnect."""

from __future__ import annotations

import time
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import OperationalError

from geodata import db
from geodata.auth import audit
from geodata.auth.access import Principal
from geodata.auth.rls import apply_scope
from geodata.vocab import Role
from tests.conftest import TestDatabase

SCOPE = text("SELECT current_setting('wangge.grid_ids', true)")
HOUSEHOLDS = text("SELECT id FROM households ORDER BY id")


def _grid(database: TestDatabase) -> tuple[Principal, list[int]]:
    """A grid worker of the sample's first grid, and that grid's households (read as owner)."""
    with database.owner.connect() as conn:
        grid = conn.execute(text("SELECT min(grid_id) FROM households")).scalar_one()
        ids = list(
            conn.execute(
                text("SELECT id FROM households WHERE grid_id = :g ORDER BY id"), {"g": grid}
            ).scalars()
        )
    assert ids
    return Principal(name="w", role=Role.GRID_WORKER, grid_ids=frozenset({int(grid)})), ids


def _statements(engine: Engine) -> list[str]:
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    return sent


def _status(conn: Connection) -> TransactionStatus:
    status: TransactionStatus = conn.connection.driver_connection.info.transaction_status  # type: ignore[union-attr]
    return status


def _audited(database: TestDatabase, actor: str) -> int:
    with database.owner.connect() as conn:
        found: int = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE actor = :a"), {"a": actor}
        ).scalar_one()
    return found


def _write_and_fail(conn: Connection, worker: Principal) -> None:
    with conn.begin():
        apply_scope(conn, worker)
        audit.record(conn, actor="rls-raised", action="list", row_count=1)
        raise ZeroDivisionError


def test_the_scope_comes_with_begin_and_ends_with_the_transaction(
    throwaway_sample_db: TestDatabase,
) -> None:
    database = throwaway_sample_db
    worker, own = _grid(database)
    engine = db.make_engine(database.settings.database_url or "")
    sent = _statements(engine)
    try:
        with engine.connect() as conn:
            with conn.begin():
                assert _status(conn) == TransactionStatus.IDLE
                apply_scope(conn, worker)
                assert sent == []  # BEGIN and the scope went as one query, not a statement
                assert _status(conn) == TransactionStatus.INTRANS
                assert conn.execute(SCOPE).scalar_one() == str(min(worker.grid_ids or ()))
                assert list(conn.execute(HOUSEHOLDS).scalars()) == own
                audit.record(conn, actor="rls-commit", action="list", row_count=1)
            # committed: the write is kept, and the scope went with the transaction
            assert _status(conn) == TransactionStatus.IDLE
            assert _audited(database, "rls-commit") == 1
            assert conn.execute(SCOPE).scalar_one() in (None, "")
            assert list(conn.execute(HOUSEHOLDS).scalars()) == []
            conn.rollback()

            with conn.begin() as tx:
                apply_scope(conn, worker)
                audit.record(conn, actor="rls-rollback", action="list", row_count=1)
                tx.rollback()
            assert _status(conn) == TransactionStatus.IDLE
            assert _audited(database, "rls-rollback") == 0

            with pytest.raises(ZeroDivisionError):
                _write_and_fail(conn, worker)
            assert _audited(database, "rls-raised") == 0

            # A transaction that already sent a statement gets the scope as a statement.
            with conn.begin():
                conn.execute(text("SELECT 1"))
                sent.clear()
                apply_scope(conn, worker)
                assert len(sent) == 1
                assert list(conn.execute(HOUSEHOLDS).scalars()) == own
    finally:
        engine.dispose()


def test_a_dead_connection_met_by_the_scope_is_a_disconnect(sample_db: TestDatabase) -> None:
    worker, own = _grid(sample_db)
    engine = db.make_engine(sample_db.settings.database_url or "")
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            conn.rollback()
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                for _ in range(100):
                    alive = other.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
                    ).scalar_one()
                    if not alive:
                        break
                    time.sleep(0.05)
                other.rollback()
            conn.begin()
            with pytest.raises(OperationalError) as raised:
                apply_scope(conn, worker)
            assert raised.value.connection_invalidated
            conn.rollback()
        with engine.begin() as conn:  # the next transaction gets a live connection
            apply_scope(conn, worker)
            assert list(conn.execute(HOUSEHOLDS).scalars()) == own
    finally:
        engine.dispose()
