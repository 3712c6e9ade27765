"""accounts, scopes, tokens, sessions and row-level security

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 13:45:09.257162
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PERSONAL_TABLES = ("households", "residents", "visits")
TOWN_ROLE = "wangge_town"
"""Members may read and write every grid's rows (admins, town-wide commanders); the app
switches to it with SET LOCAL ROLE instead of an `OR is_admin` clause in the policy."""

GRID_SCOPE = (
    "grid_id = ANY (string_to_array(nullif(current_setting('wangge.grid_ids', true), ''), ',')"
    "::bigint[])"
)


def upgrade_row_security() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{TOWN_ROLE}') THEN
                CREATE ROLE {TOWN_ROLE} NOLOGIN;
            END IF;
        END $$
        """  # noqa: S608 (constants of this migration, which takes no input)
    )
    for table in PERSONAL_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_grid_scope ON {table} "
            f"USING ({GRID_SCOPE}) WITH CHECK ({GRID_SCOPE})"
        )
        op.execute(
            f"CREATE POLICY {table}_town ON {table} TO {TOWN_ROLE} USING (true) WITH CHECK (true)"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {TOWN_ROLE}")


def downgrade_row_security() -> None:
    for table in PERSONAL_TABLES:
        op.execute(f"DROP POLICY IF EXISTS {table}_town ON {table}")
        op.execute(f"DROP POLICY IF EXISTS {table}_grid_scope ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "user_villages",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("village_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_villages_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["village_id"],
            ["villages.id"],
            name=op.f("fk_user_villages_village_id_villages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "village_id", name=op.f("pk_user_villages")),
    )
    op.create_index(
        op.f("ix_user_villages_village_id"), "user_villages", ["village_id"], unique=False
    )
    op.create_table(
        "web_sessions",
        sa.Column("sid_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sid_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.create_table(
        "user_grids",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("grid_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["grids.id"], name=op.f("fk_user_grids_grid_id_grids"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_grids_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "grid_id", name=op.f("pk_user_grids")),
    )
    op.create_index(op.f("ix_user_grids_grid_id"), "user_grids", ["grid_id"], unique=False)
    op.add_column("users", sa.Column("activation_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "users", sa.Column("activation_expires_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_unique_constraint(op.f("uq_users_activation_hash"), "users", ["activation_hash"])
    upgrade_row_security()


def downgrade() -> None:
    downgrade_row_security()
    op.drop_constraint(op.f("uq_users_activation_hash"), "users", type_="unique")
    op.drop_column("users", "activation_expires_at")
    op.drop_column("users", "activation_hash")
    op.drop_index(op.f("ix_user_grids_grid_id"), table_name="user_grids")
    op.drop_table("user_grids")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_user_villages_village_id"), table_name="user_villages")
    op.drop_table("user_villages")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
