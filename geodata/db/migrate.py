"""Alembic to head with the owner role, then the app role's grants."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from geodata.db.cluster import TOWN_ROLE

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


REWRITTEN_AFTER = {7: ("households",)}
"""Tables a revision updates row by row (0007 fills `households.last_visited_at`): when it is
applied to a town that has rows, the table is rewritten after the migration's transaction
(`VACUUM FULL`, which cannot run inside one), or it keeps a dead row for every live one."""


def upgrade(owner: Engine, *, app_role: str | None) -> None:
    """Migrate to head, and let the app role (when it is another role) use the tables."""
    with owner.begin() as conn:
        before = current_revision(conn)
        command.upgrade(alembic_config(conn), "head")
        if app_role and app_role != conn.execute(text("SELECT current_user")).scalar_one():
            grant_app_role(conn, app_role)
    rewrite = [
        table
        for revision, tables in sorted(REWRITTEN_AFTER.items())
        if before is not None and int(before) < revision
        for table in tables
    ]
    if rewrite:
        with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in rewrite:
                if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar():  # noqa: S608 (table names from REWRITTEN_AFTER, a constant of this module)
                    conn.execute(text(f"VACUUM FULL ANALYZE {table}"))


def grant_app_role(conn: Connection, app_role: str) -> None:
    """The app role and the town role use the tables; neither owns them."""
    for name in (app_role, TOWN_ROLE):
        role = conn.dialect.identifier_preparer.quote(name)
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        )
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))


def role_of(url: URL) -> str | None:
    return url.username


def current_revision(conn: Connection) -> str | None:
    exists = conn.execute(text("SELECT to_regclass('alembic_version')")).scalar()
    if exists is None:
        return None
    rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(rev) if rev is not None else None
