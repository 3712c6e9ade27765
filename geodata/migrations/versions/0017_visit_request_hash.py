"""visits.request_hash: the hash of the normalised body a visit was recorded with, so that a
replayed idempotency key with another body is told apart from a retry (409, not a silent 200)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 13:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE visits ADD COLUMN request_hash varchar(64)")


def downgrade() -> None:
    op.execute("ALTER TABLE visits DROP COLUMN request_hash")
