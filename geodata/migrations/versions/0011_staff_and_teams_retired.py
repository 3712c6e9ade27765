"""staff and teams retired without losing their history: `retired_at`

A retired person or team keeps its row (shifts, visits, events and inspections still name
it); lists and new assignments leave it out.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("staff", "teams"):
        op.add_column(table, sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in ("staff", "teams"):
        op.drop_column(table, "retired_at")
