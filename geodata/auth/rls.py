"""Row-level security context, set per transaction (never per session: pools reuse sessions)."""

from __future__ import annotations

import psycopg
from psycopg.pq import ExecStatus, TransactionStatus
from sqlalchemy import Connection, text

from geodata.auth.access import Principal
from geodata.db.cluster import TOWN_ROLE

_BYPASS_KEY = "wangge.bypasses_rls"
_DIGITS_AND_COMMAS = frozenset("0123456789,")


def bypasses_rls(conn: Connection) -> bool:
    """Whether this connection's login role is exempt from row security (owner, superuser).

    Asked once per pooled connection: the login role of a connection never changes.
    """
    info = conn.connection.info
    cached = info.get(_BYPASS_KEY)
    if cached is None:
        cached = bool(
            conn.execute(
                text("SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = session_user")
            ).scalar()
        )
        info[_BYPASS_KEY] = cached
    return bool(cached)


def as_town(conn: Connection) -> None:
    """Every grid's personal rows for the rest of this transaction (town-wide work: the
    caches of figures, a town-wide principal)."""
    if not bypasses_rls(conn):
        conn.execute(text(f"SET LOCAL ROLE {TOWN_ROLE}"))


def apply_scope(conn: Connection, principal: Principal) -> None:
    """Limit personal tables to the principal's grids for the rest of this transaction."""
    if principal.town_wide:
        as_town(conn)
        return
    ids = ",".join(str(g) for g in sorted(principal.grid_ids or ()))
    if not _begin_scoped(conn, ids):
        conn.execute(text("SELECT set_config('wangge.grid_ids', :ids, true)"), {"ids": ids})


def _begin_scoped(conn: Connection, ids: str) -> bool:
    """Open the transaction and set its scope in one round trip, when the scope is the first
    thing it does (psycopg would otherwise send BEGIN alone and wait for its answer); False
    when that cannot be done here, and nothing was sent.

    The two go as one simple query (`ids` holds digits and commas only, so it is written into
    the statement); psycopg then finds its connection in a transaction and sends no BEGIN of
    its own, and its COMMIT or ROLLBACK ends this one as any other. A failure of any kind is
    left to the ordinary statement after it, which raises it the way every statement does (a
    dead connection is a disconnect, and the pool is invalidated)."""
    if not conn.in_transaction() or not _DIGITS_AND_COMMAS.issuperset(ids):
        return False
    driver = conn.connection.driver_connection
    if (
        not isinstance(driver, psycopg.Connection)
        or driver.autocommit
        or driver.info.transaction_status != TransactionStatus.IDLE
        or (driver.isolation_level, driver.read_only, driver.deferrable) != (None, None, None)
    ):
        return False  # already in a transaction, or psycopg's BEGIN would say more
    query = f"BEGIN; SELECT set_config('wangge.grid_ids', '{ids}', true)".encode()
    result = driver.pgconn.exec_(query)
    return result.status == ExecStatus.TUPLES_OK
