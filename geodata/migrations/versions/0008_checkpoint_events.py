"""checkpoint_events: every checkpoint's state over time, so that a past day can be replayed

Written by statement triggers on checkpoints (whatever writes them: imports, plans applied,
loaders): one event when a checkpoint is made (from no state, at its `created_at`, which a
loader of a town's history may set) and one whenever its state changes (at
`clock_timestamp()`). Existing checkpoints get their first event at the time they were made.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _state(name: str) -> sa.Enum:
    return sa.Enum(
        "active", "closed", name=name, native_enum=False, create_constraint=True, length=32
    )


EVENTS = "INSERT INTO checkpoint_events (checkpoint_id, at, from_state, to_state)"
FUNCTIONS = {
    "made": f"{EVENTS} SELECT id, created_at, NULL, state FROM new_rows",  # noqa: S608 (constants of this migration, which takes no input)
    "changed": (
        f"{EVENTS} SELECT n.id, clock_timestamp(), o.state, n.state FROM new_rows n "  # noqa: S608 (constants of this migration, which takes no input)
        "JOIN old_rows o ON o.id = n.id WHERE o.state IS DISTINCT FROM n.state"
    ),
}
TRIGGERS = {
    "made": "AFTER INSERT ON checkpoints REFERENCING NEW TABLE AS new_rows",
    "changed": (
        "AFTER UPDATE ON checkpoints REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
}


def upgrade() -> None:
    op.create_table(
        "checkpoint_events",
        sa.Column("checkpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", _state("from_state"), nullable=True),
        sa.Column("to_state", _state("to_state"), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["checkpoints.id"],
            name=op.f("fk_checkpoint_events_checkpoint_id_checkpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_events")),
    )
    op.create_index(
        "ix_checkpoint_events_checkpoint_id_at", "checkpoint_events", ["checkpoint_id", "at"]
    )
    op.execute(f"{EVENTS} SELECT id, created_at, NULL, state FROM checkpoints")  # noqa: S608 (constants of this migration, which takes no input)
    for name, body in FUNCTIONS.items():
        # SECURITY DEFINER: whoever may write a checkpoint has its history written.
        op.execute(
            f"CREATE FUNCTION checkpoints_{name}() RETURNS trigger LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = public, pg_temp AS $$ BEGIN "
            f"{body}; RETURN NULL; END $$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION checkpoints_{name}() FROM PUBLIC")
        op.execute(
            f"CREATE TRIGGER checkpoints_{name} {TRIGGERS[name]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION checkpoints_{name}()"
        )


def downgrade() -> None:
    for name in FUNCTIONS:
        op.execute(f"DROP TRIGGER IF EXISTS checkpoints_{name} ON checkpoints")
        op.execute(f"DROP FUNCTION IF EXISTS checkpoints_{name}()")
    op.drop_table("checkpoint_events")
