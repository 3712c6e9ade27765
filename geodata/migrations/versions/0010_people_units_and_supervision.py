"""people and units: town settings, combat units and their groups, responsible people, people
on shifts (one row a person a shift, no person on two overlapping shifts), who and why on
state events, accounts linked to staff, daily inspections and rectification items

The shift's head count (`checkpoint_shifts.staff_count`) follows its people once anyone is
assigned: statement triggers on shift_staff recount the shifts they touch. The shift's times
are copied to its people's rows (and kept in step when a shift moves), so that an exclusion
constraint (btree_gist) refuses a person on two overlapping shifts at write time.

Teams of kind `grid` become `household_visit` (the household-visit group, 入户组).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEAM_KINDS = ("combat_unit", "household_visit", "checkpoint", "emergency", "patrol")
STAFF_ROLES = (
    "village_secretary",
    "grid_leader",
    "grid_worker",
    "yard_head",
    "building_head",
    "checkpoint_staff",
    "patrol",
)


def _in(column: str, values: Sequence[str]) -> str:
    listed = ", ".join(f"'{v}'::character varying" for v in values)
    return f"(({column})::text = ANY ((ARRAY[{listed}])::text[]))"


def _staff_fk(table: str, column: str) -> None:
    op.add_column(table, sa.Column(column, sa.BigInteger(), nullable=True))
    op.create_foreign_key(f"fk_{table}_{column}_staff", table, "staff", [column], ["id"])


RECOUNT = """
    UPDATE checkpoint_shifts AS s SET staff_count = (
        SELECT count(*) FROM shift_staff AS p WHERE p.shift_id = s.id
    ) WHERE s.id IN (SELECT shift_id FROM {rows})
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "town_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_town_settings")),
    )
    # teams: combat units and their groups
    op.execute("ALTER TABLE teams DROP CONSTRAINT ck_teams_team_kind")
    op.execute("UPDATE teams SET kind = 'household_visit' WHERE kind = 'grid'")
    op.create_check_constraint(op.f("ck_teams_team_kind"), "teams", _in("kind", TEAM_KINDS))
    op.add_column("teams", sa.Column("parent_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f("fk_teams_parent_id_teams"), "teams", "teams", ["parent_id"], ["id"])
    op.create_index(op.f("ix_teams_parent_id"), "teams", ["parent_id"])
    op.execute("ALTER TABLE staff DROP CONSTRAINT ck_staff_staff_role")
    op.create_check_constraint(op.f("ck_staff_staff_role"), "staff", _in("role", STAFF_ROLES))
    # the responsible person of each level
    _staff_fk("villages", "secretary_id")
    _staff_fk("compounds", "head_id")
    _staff_fk("buildings", "head_id")
    # who changed a state, and why
    for table in ("entrance_events", "checkpoint_events"):
        op.add_column(table, sa.Column("responsible_id", sa.BigInteger(), nullable=True))
        op.create_foreign_key(
            op.f(f"fk_{table}_responsible_id_staff"), table, "staff", ["responsible_id"], ["id"]
        )
        op.add_column(table, sa.Column("reason", sa.Text(), nullable=True))
    op.add_column("checkpoint_events", sa.Column("user_name", sa.Text(), nullable=True))
    # accounts are people
    op.add_column("users", sa.Column("staff_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f("fk_users_staff_id_staff"), "users", "staff", ["staff_id"], ["id"])
    op.create_unique_constraint(op.f("uq_users_staff_id"), "users", ["staff_id"])
    # shifts hold people
    op.add_column("checkpoint_shifts", sa.Column("source_id", sa.String(128), nullable=True))
    op.create_unique_constraint(
        op.f("uq_checkpoint_shifts_source_id"), "checkpoint_shifts", ["source_id"]
    )
    op.add_column(
        "checkpoint_shifts",
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    )
    op.create_table(
        "shift_staff",
        sa.Column("shift_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["checkpoint_shifts.id"],
            name=op.f("fk_shift_staff_shift_id_checkpoint_shifts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_shift_staff_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_staff")),
    )
    op.create_index(op.f("ix_shift_staff_shift_id"), "shift_staff", ["shift_id"])
    op.create_index(op.f("ix_shift_staff_staff_id"), "shift_staff", ["staff_id"])
    op.execute(
        "ALTER TABLE shift_staff ADD CONSTRAINT shift_staff_no_overlap EXCLUDE USING gist "
        "(staff_id WITH =, tstzrange(starts_at, ends_at) WITH &&)"
    )
    op.execute(
        "CREATE FUNCTION shift_staff_times() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "SELECT s.starts_at, s.ends_at INTO NEW.starts_at, NEW.ends_at "
        "FROM checkpoint_shifts AS s WHERE s.id = NEW.shift_id; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER shift_staff_times BEFORE INSERT OR UPDATE ON shift_staff "
        "FOR EACH ROW EXECUTE FUNCTION shift_staff_times()"
    )
    op.execute(
        "CREATE FUNCTION checkpoint_shifts_moved() RETURNS trigger LANGUAGE plpgsql "
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
    for name, timing, rows in (
        ("added", "AFTER INSERT ON shift_staff REFERENCING NEW TABLE AS changed", "changed"),
        ("removed", "AFTER DELETE ON shift_staff REFERENCING OLD TABLE AS changed", "changed"),
    ):
        op.execute(
            f"CREATE FUNCTION shift_staff_{name}() RETURNS trigger LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = public, pg_temp AS $$ BEGIN "
            f"{RECOUNT.format(rows=rows)}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER shift_staff_{name} {timing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION shift_staff_{name}()"
        )
    # a state change written by the command post carries its own event: the trigger that
    # records a checkpoint's changes leaves it alone when the transaction says so
    op.execute(
        "CREATE OR REPLACE FUNCTION checkpoints_changed() RETURNS trigger LANGUAGE plpgsql "
        "SECURITY DEFINER SET search_path = public, pg_temp AS $$ BEGIN "
        "IF coalesce(current_setting('wangge.event_written', true), '') = 'on' THEN "
        "RETURN NULL; END IF; "
        "INSERT INTO checkpoint_events (checkpoint_id, at, from_state, to_state) "
        "SELECT n.id, clock_timestamp(), o.state, n.state FROM new_rows n "
        "JOIN old_rows o ON o.id = n.id WHERE o.state IS DISTINCT FROM n.state; "
        "RETURN NULL; END $$"
    )
    # supervision
    op.create_table(
        "inspections",
        sa.Column("checkpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("inspector_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_present", sa.Boolean(), nullable=False),
        sa.Column("temperatures_taken", sa.Boolean(), nullable=False),
        sa.Column("register_kept", sa.Boolean(), nullable=False),
        sa.Column("masks", sa.Boolean(), nullable=False),
        sa.Column("disinfection", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["checkpoints.id"],
            name=op.f("fk_inspections_checkpoint_id_checkpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["staff.id"], name=op.f("fk_inspections_inspector_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    op.create_index("ix_inspections_checkpoint_id_at", "inspections", ["checkpoint_id", "at"])
    op.create_table(
        "rectifications",
        sa.Column("checkpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("inspection_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "fixed",
                "verified",
                name="rectification_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="open",
            nullable=False,
        ),
        sa.Column("fixed_by_id", sa.BigInteger(), nullable=True),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by_id", sa.BigInteger(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "verified_by_id IS DISTINCT FROM fixed_by_id",
            name=op.f("ck_rectifications_verifier_not_fixer"),
        ),
        sa.CheckConstraint(
            "(status = 'open') = (fixed_by_id IS NULL) AND "
            "(status = 'verified') = (verified_by_id IS NOT NULL)",
            name=op.f("ck_rectifications_status_follows_people"),
        ),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["checkpoints.id"],
            name=op.f("fk_rectifications_checkpoint_id_checkpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_rectifications_inspection_id_inspections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["staff.id"], name=op.f("fk_rectifications_owner_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["fixed_by_id"], ["staff.id"], name=op.f("fk_rectifications_fixed_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"], ["staff.id"], name=op.f("fk_rectifications_verified_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectifications")),
    )
    op.create_index(op.f("ix_rectifications_checkpoint_id"), "rectifications", ["checkpoint_id"])
    op.create_index(op.f("ix_rectifications_inspection_id"), "rectifications", ["inspection_id"])


def downgrade() -> None:
    raise NotImplementedError("0010 is not reversed: people on shifts would be lost")
