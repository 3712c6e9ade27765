"""rate_limit_counts: the login rate limiter's counts per key and fixed window, shared by every
process that serves the app

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counts",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counts")),
    )
    op.create_index(
        op.f("ix_rate_limit_counts_expires_at"), "rate_limit_counts", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_counts_expires_at"), table_name="rate_limit_counts")
    op.drop_table("rate_limit_counts")
