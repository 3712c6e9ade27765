"""published_tables and disclosure_secret: frozen daily publications and the perturbation key

A published table of a closed day is frozen on first use; an UPDATE of one is refused. The
secret that keys the random rounding of published counts is made here, once per database.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "published_tables",
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("figures", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("units", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "frozen_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("source", "scope", "day", name=op.f("pk_published_tables")),
    )
    op.execute(
        "CREATE FUNCTION published_tables_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'a published table is frozen'; END $$"
    )
    op.execute(
        "CREATE TRIGGER published_tables_frozen BEFORE UPDATE ON published_tables "
        "FOR EACH ROW EXECUTE FUNCTION published_tables_frozen()"
    )
    op.create_table(
        "disclosure_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_disclosure_secret_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_secret")),
    )
    op.execute(
        sa.text("INSERT INTO disclosure_secret (id, secret) VALUES (1, :s)").bindparams(
            s=secrets.token_hex(32)
        )
    )


def downgrade() -> None:
    op.drop_table("disclosure_secret")
    op.execute("DROP TRIGGER IF EXISTS published_tables_frozen ON published_tables")
    op.execute("DROP FUNCTION IF EXISTS published_tables_frozen()")
    op.drop_table("published_tables")
