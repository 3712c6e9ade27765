"""Row-level security context, set per transaction (never per session: pools reuse sessions)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from geodata.access import Principal
from geodata.cluster import TOWN_ROLE


def bypasses_rls(conn: Connection) -> bool:
    """Whether this connection's role is exempt from row security (owner, superuser)."""
    row = conn.execute(
        text("SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user")
    ).scalar()
    return bool(row)


def apply_scope(conn: Connection, principal: Principal) -> None:
    """Limit personal tables to the principal's grids for the rest of this transaction."""
    if principal.town_wide:
        if not bypasses_rls(conn):
            conn.execute(text(f"SET LOCAL ROLE {TOWN_ROLE}"))
        return
    ids = ",".join(str(g) for g in sorted(principal.grid_ids or ()))
    conn.execute(text("SELECT set_config('wangge.grid_ids', :ids, true)"), {"ids": ids})
