"""isolation sites: beds in use

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "isolation_sites",
        sa.Column("beds_used", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_isolation_sites_beds_used_within_beds"),
        "isolation_sites",
        "beds_used BETWEEN 0 AND beds",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_isolation_sites_beds_used_within_beds"), "isolation_sites", type_="check"
    )
    op.drop_column("isolation_sites", "beds_used")
