"""Row-level security context, set per transaction (never per session: pools reuse sessions)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from geodata.auth.access import Principal
from geodata.db.cluster import TOWN_ROLE

_BYPASS_KEY = "wangge.bypasses_rls"


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
    conn.execute(text("SELECT set_config('wangge.grid_ids', :ids, true)"), {"ids": ids})
