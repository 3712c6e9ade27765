"""quarantines: a person's quarantine from start to release, its changes and its checks;
visits.people_seen

- quarantines: who (a resident), type (home, observation, concentrated), reason (returnee
  with origin, close_contact with the case, fever, other), start, planned end, status
  (active, released, transferred). One active quarantine per person, held by a unique
  index. Personal data: row security by grid, as residents.
- quarantine_changes: extensions, early releases, releases at the end and transfers, each
  with its time, reason and who decided.
- quarantine_checks: a temperature taken, in °C (34.0 to 43.0), with the idempotency key
  of the request that wrote it.
- Existing data: each resident with `quarantine_until` in a home_quarantine household gets
  a home quarantine that starts 14 days before that date (town midnight); one already over
  is released at its end (the function `quarantines_from_residents(zone)`, which a town
  loaded later calls too).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOWN_ROLE = "wangge_town"
GRID_SCOPE = (
    "grid_id = ANY (string_to_array(nullif(current_setting('wangge.grid_ids', true), ''), ',')"
    "::bigint[])"
)
TABLES = ("quarantines", "quarantine_changes", "quarantine_checks")
ADOPT = """
CREATE FUNCTION quarantines_from_residents(zone text) RETURNS bigint LANGUAGE sql AS $$
    WITH made AS (
        INSERT INTO quarantines (resident_id, grid_id, type, reason, origin, starts_at,
                                 ends_at, status, released_at, created_by)
        SELECT r.id, coalesce(r.grid_id, h.grid_id), 'home',
               CASE WHEN r.returnee THEN 'returnee' WHEN r.close_contact THEN 'close_contact'
                    WHEN r.fever THEN 'fever' ELSE 'other' END,
               CASE WHEN r.returnee THEN coalesce(r.origin, 'unknown') END,
               (r.quarantine_until - 14)::timestamp AT TIME ZONE zone, e.ends_at,
               CASE WHEN e.ends_at > now() THEN 'active' ELSE 'released' END,
               CASE WHEN e.ends_at > now() THEN NULL ELSE e.ends_at END,
               'residents.quarantine_until'
        FROM residents r JOIN households h ON h.id = r.household_id
        CROSS JOIN LATERAL (SELECT r.quarantine_until::timestamp AT TIME ZONE zone AS ends_at) e
        WHERE r.quarantine_until IS NOT NULL AND h.status = 'home_quarantine'
          AND NOT EXISTS (SELECT 1 FROM quarantines q WHERE q.resident_id = r.id)
        RETURNING 1
    )
    SELECT count(*) FROM made
$$
"""
"""Each resident with `quarantine_until` in a home_quarantine household, without a record
yet, gets a home quarantine starting 14 days before that date at the town's midnight."""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def _grid() -> sa.Column[int]:
    return sa.Column("grid_id", sa.BigInteger(), sa.ForeignKey("grids.id"), nullable=True)


def upgrade() -> None:
    op.create_table(
        "quarantines",
        _id(),
        sa.Column(
            "resident_id",
            sa.BigInteger(),
            sa.ForeignKey("residents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _grid(),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("case_ref", sa.Text(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), server_default="active", nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantines")),
        sa.CheckConstraint(
            _in("type", ("home", "observation", "concentrated")), name=op.f("ck_quarantines_type")
        ),
        sa.CheckConstraint(
            _in("reason", ("returnee", "close_contact", "fever", "other")),
            name=op.f("ck_quarantines_reason"),
        ),
        sa.CheckConstraint(
            _in("status", ("active", "released", "transferred")),
            name=op.f("ck_quarantines_status"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_quarantines_ends_after_start")),
        sa.CheckConstraint(
            "reason <> 'returnee' OR origin IS NOT NULL", name=op.f("ck_quarantines_origin")
        ),
        sa.CheckConstraint(
            "(status = 'active') = (released_at IS NULL)", name=op.f("ck_quarantines_released")
        ),
    )
    op.create_index(op.f("ix_quarantines_resident_id"), "quarantines", ["resident_id"])
    op.create_index(op.f("ix_quarantines_grid_id"), "quarantines", ["grid_id"])
    op.create_index(
        "uq_quarantines_one_active",
        "quarantines",
        ["resident_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "quarantine_changes",
        _id(),
        sa.Column(
            "quarantine_id",
            sa.BigInteger(),
            sa.ForeignKey("quarantines.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _grid(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_changes")),
        sa.CheckConstraint(
            _in("kind", ("extend", "release_early", "release", "transfer")),
            name=op.f("ck_quarantine_changes_kind"),
        ),
    )
    op.create_index(
        op.f("ix_quarantine_changes_quarantine_id"), "quarantine_changes", ["quarantine_id"]
    )
    op.create_table(
        "quarantine_checks",
        _id(),
        sa.Column(
            "quarantine_id",
            sa.BigInteger(),
            sa.ForeignKey("quarantines.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _grid(),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("temperature_c", sa.Numeric(3, 1), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_checks")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_quarantine_checks_idempotency_key")),
        sa.CheckConstraint(
            "temperature_c BETWEEN 34.0 AND 43.0", name=op.f("ck_quarantine_checks_temperature")
        ),
    )
    op.create_index(
        "ix_quarantine_checks_quarantine_id_checked_at",
        "quarantine_checks",
        ["quarantine_id", "checked_at"],
    )
    op.add_column("visits", sa.Column("people_seen", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_visits_people_seen_nonnegative"), "visits", "people_seen >= 0"
    )
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_grid_scope ON {table} "
            f"USING ({GRID_SCOPE}) WITH CHECK ({GRID_SCOPE})"
        )
        op.execute(
            f"CREATE POLICY {table}_town ON {table} TO {TOWN_ROLE} USING (true) WITH CHECK (true)"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {TOWN_ROLE}")
    # what was a household status and a date becomes a record: a function, so that a town
    # loaded later (the sample town) adopts its residents' quarantines the same way
    op.execute(ADOPT)
    op.execute("SELECT quarantines_from_residents('Asia/Shanghai')")


def downgrade() -> None:
    op.execute("DROP FUNCTION quarantines_from_residents(text)")
    op.drop_constraint(op.f("ck_visits_people_seen_nonnegative"), "visits", type_="check")
    op.drop_column("visits", "people_seen")
    for table in reversed(TABLES):
        op.drop_table(table)
