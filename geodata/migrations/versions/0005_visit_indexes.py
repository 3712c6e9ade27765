"""visits: indexes for a household's latest visit and for the visits of a period

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 15:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_visits_household_id_visited_at", "visits", ["household_id", "visited_at"])
    op.create_index("ix_visits_visited_at", "visits", ["visited_at"])
    # the composite index starts with household_id: the single-column one is redundant
    op.drop_index("ix_visits_household_id", table_name="visits")


def downgrade() -> None:
    op.create_index("ix_visits_household_id", "visits", ["household_id"])
    op.drop_index("ix_visits_visited_at", table_name="visits")
    op.drop_index("ix_visits_household_id_visited_at", table_name="visits")
