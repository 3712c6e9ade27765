"""rectifications: an open item (neither fixed nor verified) satisfies verifier_not_fixer

`verified_by_id IS DISTINCT FROM fixed_by_id` is false when both are NULL, so no open item
could be written. The rule is the same for the items it was meant for: a verifier, when
there is one, is not the person who fixed the item.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = op.f("ck_rectifications_verifier_not_fixer")


def upgrade() -> None:
    op.drop_constraint(NAME, "rectifications", type_="check")
    op.create_check_constraint(
        NAME, "rectifications", "verified_by_id IS NULL OR verified_by_id <> fixed_by_id"
    )


def downgrade() -> None:
    op.drop_constraint(NAME, "rectifications", type_="check")
    op.create_check_constraint(
        NAME, "rectifications", "verified_by_id IS DISTINCT FROM fixed_by_id"
    )
