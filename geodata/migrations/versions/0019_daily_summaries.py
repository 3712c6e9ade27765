"""daily_summaries: the 18:00 summary (汇总) of each town day, frozen when first issued at or
after the summary time and never computed again

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 13:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_summaries",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_summaries")),
    )
    # frozen: a summary once issued is never changed (later amendments are listed beside it)
    op.execute(
        "CREATE FUNCTION daily_summaries_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'daily_summaries: a summary once issued is not changed'; END $$"
    )
    op.execute(
        "CREATE TRIGGER daily_summaries_frozen BEFORE UPDATE ON daily_summaries "
        "FOR EACH ROW EXECUTE FUNCTION daily_summaries_frozen()"
    )


def downgrade() -> None:
    op.drop_table("daily_summaries")
    op.execute("DROP FUNCTION daily_summaries_frozen()")
