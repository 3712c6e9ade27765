"""shift staffing as events: putting a person on a shift, or taking them off, is a checkpoint
event with its effective time, the person responsible and the reason

- checkpoint_events.kind: `state` (as before), `staff_on` or `staff_off`; a staffing event
  names its shift and person and has no state.
- shift_staff.joins_at / leaves_at: when a person put on a running shift (or planned to join
  later) starts, and when one taken off leaves. The row's own range is the shift's, cut to
  these times, so that the exclusion constraint, the head count per hour and "as of" all see
  the hours the person is really there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("state", "staff_on", "staff_off")

RECOUNT = (
    "UPDATE checkpoint_shifts AS s SET staff_count = (SELECT count(*) FROM shift_staff AS p"
    " WHERE p.shift_id = s.id{still}) WHERE s.id IN (SELECT shift_id FROM changed)"
)
STILL_ON = " AND p.leaves_at IS NULL"
"""The head count: the people on the shift who were not taken off it."""


def _recount(still: str) -> None:
    for name in ("added", "removed"):
        op.execute(
            f"CREATE OR REPLACE FUNCTION shift_staff_{name}() RETURNS trigger LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = public, pg_temp AS $$ BEGIN "
            f"{RECOUNT.format(still=still)}; RETURN NULL; END $$"
        )


def upgrade() -> None:
    op.add_column(
        "checkpoint_events",
        sa.Column("kind", sa.String(16), server_default="state", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_checkpoint_events_event_kind"),
        "checkpoint_events",
        "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
    )
    op.add_column("checkpoint_events", sa.Column("shift_id", sa.BigInteger(), nullable=True))
    op.add_column("checkpoint_events", sa.Column("staff_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_checkpoint_events_shift_id_checkpoint_shifts"),
        "checkpoint_events",
        "checkpoint_shifts",
        ["shift_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_checkpoint_events_staff_id_staff"),
        "checkpoint_events",
        "staff",
        ["staff_id"],
        ["id"],
    )
    op.alter_column("checkpoint_events", "to_state", nullable=True)
    op.create_check_constraint(
        op.f("ck_checkpoint_events_state_or_staff"),
        "checkpoint_events",
        "(kind = 'state') = (to_state IS NOT NULL) AND (kind = 'state' OR staff_id IS NOT NULL)",
    )
    op.add_column("shift_staff", sa.Column("joins_at", sa.DateTime(timezone=True)))
    op.add_column("shift_staff", sa.Column("leaves_at", sa.DateTime(timezone=True)))
    op.execute(
        "CREATE OR REPLACE FUNCTION shift_staff_times() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN SELECT greatest(s.starts_at, coalesce(NEW.joins_at, s.starts_at)),"
        " least(s.ends_at, coalesce(NEW.leaves_at, s.ends_at)) INTO NEW.starts_at, NEW.ends_at "
        "FROM checkpoint_shifts AS s WHERE s.id = NEW.shift_id; RETURN NEW; END $$"
    )
    # a shift moved: its people's ranges are computed again by the trigger above
    op.execute("DROP TRIGGER checkpoint_shifts_moved ON checkpoint_shifts")
    # row triggers that fire only when their columns changed: a statement trigger would run
    # for no row too (the head count and the times would set each other off), and joining
    # two transition tables, which have no statistics, grows faster than the rows
    op.execute(
        "CREATE OR REPLACE FUNCTION checkpoint_shifts_moved() RETURNS trigger LANGUAGE plpgsql "
        "SECURITY DEFINER SET search_path = public, pg_temp AS $$ BEGIN "
        "UPDATE shift_staff SET starts_at = starts_at WHERE shift_id = NEW.id; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER checkpoint_shifts_moved AFTER UPDATE OF starts_at, ends_at "
        "ON checkpoint_shifts FOR EACH ROW "
        "WHEN ((OLD.starts_at, OLD.ends_at) IS DISTINCT FROM (NEW.starts_at, NEW.ends_at)) "
        "EXECUTE FUNCTION checkpoint_shifts_moved()"
    )
    op.create_check_constraint(
        op.f("ck_shift_staff_present_a_while"), "shift_staff", "ends_at > starts_at"
    )
    _recount(STILL_ON)
    op.execute(
        "CREATE FUNCTION shift_staff_left() RETURNS trigger LANGUAGE plpgsql "  # noqa: S608 (constants of this migration)
        "SECURITY DEFINER SET search_path = public, pg_temp AS $$ BEGIN "
        "UPDATE checkpoint_shifts AS s SET staff_count = (SELECT count(*) FROM shift_staff AS p"
        f" WHERE p.shift_id = s.id{STILL_ON}) WHERE s.id = NEW.shift_id; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER shift_staff_left AFTER UPDATE OF leaves_at ON shift_staff "
        "FOR EACH ROW WHEN (OLD.leaves_at IS DISTINCT FROM NEW.leaves_at) "
        "EXECUTE FUNCTION shift_staff_left()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER shift_staff_left ON shift_staff")
    op.execute("DROP FUNCTION shift_staff_left()")
    _recount("")
    op.drop_constraint(op.f("ck_shift_staff_present_a_while"), "shift_staff", type_="check")
    op.execute("DROP TRIGGER checkpoint_shifts_moved ON checkpoint_shifts")
    op.execute(
        "CREATE OR REPLACE FUNCTION checkpoint_shifts_moved() RETURNS trigger LANGUAGE plpgsql "
        "SECURITY DEFINER SET search_path = public, pg_temp AS $$ BEGIN "
        "UPDATE shift_staff AS p SET starts_at = n.starts_at, ends_at = n.ends_at "
        "FROM new_rows AS n WHERE p.shift_id = n.id "
        "AND (p.starts_at, p.ends_at) IS DISTINCT FROM (n.starts_at, n.ends_at); "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER checkpoint_shifts_moved AFTER UPDATE ON checkpoint_shifts "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION checkpoint_shifts_moved()"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION shift_staff_times() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN SELECT s.starts_at, s.ends_at INTO NEW.starts_at, NEW.ends_at "
        "FROM checkpoint_shifts AS s WHERE s.id = NEW.shift_id; RETURN NEW; END $$"
    )
    op.drop_column("shift_staff", "leaves_at")
    op.drop_column("shift_staff", "joins_at")
    op.execute("DELETE FROM checkpoint_events WHERE kind <> 'state'")
    op.drop_constraint(
        op.f("ck_checkpoint_events_state_or_staff"), "checkpoint_events", type_="check"
    )
    op.alter_column("checkpoint_events", "to_state", nullable=False)
    op.drop_column("checkpoint_events", "staff_id")
    op.drop_column("checkpoint_events", "shift_id")
    op.drop_column("checkpoint_events", "kind")
