"""isolation rooms, beds and bed assignments; fever alerts; screening campaigns

- isolation_rooms / isolation_beds: every site's rooms (a room may be held in reserve) and
  beds. Existing sites get one room of one bed per bed, and their reserve rooms of one bed
  each, marked reserve.
- bed_assignments: who sleeps in which bed from when to when (open end: still there). A
  gist exclusion constraint makes two assignments of one bed at once impossible. Personal
  data: row security by grid. `isolation_sites.beds_used` stays as the count of beds
  assigned now, kept by the functions that write assignments.
- fever_alerts: a temperature of 37.3 °C or more opens one; it stays open until someone
  records what was done. Personal data: row security by grid.
- campaigns / campaign_grids: a screening campaign's name, start, deadline and the grids of
  its scope (chosen by villages or grids).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOWN_ROLE = "wangge_town"
GRID_SCOPE = (
    "grid_id = ANY (string_to_array(nullif(current_setting('wangge.grid_ids', true), ''), ',')"
    "::bigint[])"
)
PERSONAL = ("bed_assignments", "fever_alerts")


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def _fk(name: str, target: str, *, nullable: bool = False, cascade: bool = True) -> sa.Column[int]:
    return sa.Column(
        name,
        sa.BigInteger(),
        sa.ForeignKey(target, ondelete="CASCADE" if cascade else None),
        nullable=nullable,
    )


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "isolation_rooms",
        _id(),
        _fk("site_id", "isolation_sites.id"),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("reserve", sa.Boolean(), server_default="false", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_isolation_rooms")),
        sa.UniqueConstraint("site_id", "number", name=op.f("uq_isolation_rooms_site_id")),
    )
    op.create_table(
        "isolation_beds",
        _id(),
        _fk("room_id", "isolation_rooms.id"),
        _fk("site_id", "isolation_sites.id"),
        sa.Column("label", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_isolation_beds")),
        sa.UniqueConstraint("room_id", "label", name=op.f("uq_isolation_beds_room_id")),
    )
    op.create_index(op.f("ix_isolation_beds_site_id"), "isolation_beds", ["site_id"])
    op.create_table(
        "bed_assignments",
        _id(),
        _fk("bed_id", "isolation_beds.id", cascade=False),
        _fk("resident_id", "residents.id"),
        _fk("quarantine_id", "quarantines.id", nullable=True),
        _fk("grid_id", "grids.id", nullable=True, cascade=False),
        _at("starts_at"),
        _at("ends_at", nullable=True),
        sa.Column("assigned_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bed_assignments")),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at > starts_at", name=op.f("ck_bed_assignments_ends_after")
        ),
    )
    op.create_index(op.f("ix_bed_assignments_bed_id"), "bed_assignments", ["bed_id"])
    op.create_index(op.f("ix_bed_assignments_resident_id"), "bed_assignments", ["resident_id"])
    op.execute(
        "ALTER TABLE bed_assignments ADD CONSTRAINT bed_assignments_no_double_booking "
        "EXCLUDE USING gist (bed_id WITH =, tstzrange(starts_at, ends_at) WITH &&)"
    )
    op.execute(
        "ALTER TABLE bed_assignments ADD CONSTRAINT bed_assignments_one_bed_a_time "
        "EXCLUDE USING gist (resident_id WITH =, tstzrange(starts_at, ends_at) WITH &&)"
    )
    op.create_table(
        "fever_alerts",
        _id(),
        _fk("quarantine_id", "quarantines.id"),
        _fk("check_id", "quarantine_checks.id", nullable=True),
        _fk("grid_id", "grids.id", nullable=True, cascade=False),
        _at("opened_at"),
        sa.Column("temperature_c", sa.Numeric(3, 1), nullable=False),
        _at("closed_at", nullable=True),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fever_alerts")),
        sa.CheckConstraint(
            "(closed_at IS NULL) = (action IS NULL)",
            name=op.f("ck_fever_alerts_closed_with_action"),
        ),
    )
    op.create_index(op.f("ix_fever_alerts_quarantine_id"), "fever_alerts", ["quarantine_id"])
    op.create_table(
        "campaigns",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        _at("starts_at"),
        _at("deadline"),
        sa.Column("created_by", sa.Text(), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.CheckConstraint("deadline > starts_at", name=op.f("ck_campaigns_deadline_after_start")),
    )
    op.alter_column("campaigns", "created_at", server_default=sa.func.now())
    op.create_table(
        "campaign_grids",
        _fk("campaign_id", "campaigns.id"),
        _fk("grid_id", "grids.id"),
        sa.PrimaryKeyConstraint("campaign_id", "grid_id", name=op.f("pk_campaign_grids")),
    )
    for table in PERSONAL:
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
    for table in ("isolation_rooms", "isolation_beds", "campaigns", "campaign_grids"):
        op.execute(f"GRANT SELECT ON {table} TO {TOWN_ROLE}")
    op.execute(BEDS_FOR_SITES)
    op.execute("SELECT isolation_beds_for_sites()")


BEDS_FOR_SITES = """
CREATE FUNCTION isolation_beds_for_sites() RETURNS bigint LANGUAGE sql AS $$
    WITH rooms AS (
        INSERT INTO isolation_rooms (site_id, number, reserve)
        SELECT s.id, lpad(n::text, 3, '0'), n > s.beds
        FROM isolation_sites s CROSS JOIN LATERAL generate_series(1, s.beds + s.reserve_rooms) n
        WHERE NOT EXISTS (SELECT 1 FROM isolation_rooms r WHERE r.site_id = s.id)
        RETURNING id, site_id
    ), beds AS (
        INSERT INTO isolation_beds (room_id, site_id, label)
        SELECT id, site_id, '1' FROM rooms RETURNING 1
    )
    SELECT count(*) FROM beds
$$
"""
"""Each site without rooms gets one room of one bed per bed, then its reserve rooms (one
bed each, marked reserve); rooms numbered 001, 002, ..."""


def downgrade() -> None:
    op.execute("DROP FUNCTION isolation_beds_for_sites()")
    for table in (
        "campaign_grids",
        "campaigns",
        "fever_alerts",
        "bed_assignments",
        "isolation_beds",
        "isolation_rooms",
    ):
        op.drop_table(table)
