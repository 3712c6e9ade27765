"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 13:40:44.433258
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=True),
        sa.Column("object_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"], unique=False)
    op.create_geospatial_table(
        "isolation_sites",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("reserve_rooms", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_isolation_sites_geom_valid")
        ),
        sa.CheckConstraint(
            "beds >= 0 AND reserve_rooms >= 0", name=op.f("ck_isolation_sites_capacity_nonnegative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_isolation_sites")),
        sa.UniqueConstraint("source_id", name=op.f("uq_isolation_sites_source_id")),
    )
    op.create_geospatial_index(
        "idx_isolation_sites_geom",
        "isolation_sites",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "roads",
        sa.Column("highway", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_roads_geom_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roads")),
        sa.UniqueConstraint("source_id", name=op.f("uq_roads_source_id")),
    )
    op.create_geospatial_index(
        "idx_roads_geom",
        "roads",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "commander",
                "planner",
                "analyst",
                "grid_worker",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_geospatial_table(
        "villages",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "village",
                "community",
                "urban_village",
                name="village_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_villages_geom_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_villages")),
        sa.UniqueConstraint("code", name=op.f("uq_villages_code")),
        sa.UniqueConstraint("source_id", name=op.f("uq_villages_source_id")),
    )
    op.create_geospatial_index(
        "idx_villages_geom",
        "villages",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "compounds",
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "residential_compound",
                "building_yard",
                name="compound_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "closure",
            sa.Enum(
                "open",
                "sealed_managed",
                name="closure",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("village_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_compounds_geom_valid")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_compounds_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compounds")),
        sa.UniqueConstraint("source_id", name=op.f("uq_compounds_source_id")),
    )
    op.create_geospatial_index(
        "idx_compounds_geom",
        "compounds",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_compounds_village_id"), "compounds", ["village_id"], unique=False)
    op.create_geospatial_table(
        "grids",
        sa.Column("village_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("leader_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_grids_geom_valid")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_grids_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grids")),
        sa.UniqueConstraint("code", name=op.f("uq_grids_code")),
        sa.UniqueConstraint("source_id", name=op.f("uq_grids_source_id")),
    )
    op.create_geospatial_index(
        "idx_grids_geom",
        "grids",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_grids_village_id"), "grids", ["village_id"], unique=False)
    op.create_table(
        "teams",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "grid",
                "checkpoint",
                "patrol",
                name="team_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("village_id", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_teams_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("source_id", name=op.f("uq_teams_source_id")),
    )
    op.create_index(op.f("ix_teams_village_id"), "teams", ["village_id"], unique=False)
    op.create_geospatial_table(
        "buildings",
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("floors", sa.Integer(), nullable=True),
        sa.Column("use", sa.String(length=64), nullable=True),
        sa.Column("compound_id", sa.BigInteger(), nullable=True),
        sa.Column("grid_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_buildings_geom_valid")
        ),
        sa.CheckConstraint(
            "floors IS NULL OR floors BETWEEN 1 AND 200", name=op.f("ck_buildings_floors_range")
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["compounds.id"], name=op.f("fk_buildings_compound_id_compounds")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_buildings_grid_id_grids")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
        sa.UniqueConstraint("source_id", name=op.f("uq_buildings_source_id")),
    )
    op.create_geospatial_index(
        "idx_buildings_geom",
        "buildings",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_buildings_compound_id"), "buildings", ["compound_id"], unique=False)
    op.create_index(op.f("ix_buildings_grid_id"), "buildings", ["grid_id"], unique=False)
    op.create_geospatial_table(
        "entrances",
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("compound_id", sa.BigInteger(), nullable=True),
        sa.Column("village_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "sealed",
                "checkpoint",
                name="entrance_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(compound_id IS NOT NULL) <> (village_id IS NOT NULL)",
            name=op.f("ck_entrances_one_owner"),
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_entrances_geom_valid")
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["compounds.id"], name=op.f("fk_entrances_compound_id_compounds")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_entrances_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entrances")),
        sa.UniqueConstraint("source_id", name=op.f("uq_entrances_source_id")),
    )
    op.create_geospatial_index(
        "idx_entrances_geom",
        "entrances",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_entrances_compound_id"), "entrances", ["compound_id"], unique=False)
    op.create_index(op.f("ix_entrances_village_id"), "entrances", ["village_id"], unique=False)
    op.create_geospatial_table(
        "patrol_zones",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "period",
            sa.Enum(
                "day", "night", name="period", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("village_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_patrol_zones_geom_valid")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_patrol_zones_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_patrol_zones_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_zones")),
        sa.UniqueConstraint("source_id", name=op.f("uq_patrol_zones_source_id")),
    )
    op.create_geospatial_index(
        "idx_patrol_zones_geom",
        "patrol_zones",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_patrol_zones_team_id"), "patrol_zones", ["team_id"], unique=False)
    op.create_index(
        op.f("ix_patrol_zones_village_id"), "patrol_zones", ["village_id"], unique=False
    )
    op.create_table(
        "staff",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "grid_leader",
                "grid_worker",
                "checkpoint_staff",
                "patrol",
                name="staff_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("village_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("grid_id", sa.BigInteger(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_staff_grid_id_grids")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_staff_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_staff_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("source_id", name=op.f("uq_staff_source_id")),
    )
    op.create_index(op.f("ix_staff_grid_id"), "staff", ["grid_id"], unique=False)
    op.create_index(op.f("ix_staff_team_id"), "staff", ["team_id"], unique=False)
    op.create_index(op.f("ix_staff_village_id"), "staff", ["village_id"], unique=False)
    # grids and staff refer to each other: the grid leader's key is added once both exist
    op.create_foreign_key("fk_grids_leader_id_staff", "grids", "staff", ["leader_id"], ["id"])
    op.create_geospatial_table(
        "checkpoints",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "village_gate",
                "road",
                "compound_gate",
                "monitoring_point",
                name="checkpoint_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "active",
                "closed",
                name="checkpoint_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("staff_per_shift", sa.Integer(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("village_id", sa.BigInteger(), nullable=True),
        sa.Column("entrance_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_checkpoints_geom_valid")
        ),
        sa.CheckConstraint("radius_m > 0", name=op.f("ck_checkpoints_radius_positive")),
        sa.CheckConstraint("staff_per_shift >= 1", name=op.f("ck_checkpoints_staff_positive")),
        sa.ForeignKeyConstraint(
            ["entrance_id"], ["entrances.id"], name=op.f("fk_checkpoints_entrance_id_entrances")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_checkpoints_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoints")),
        sa.UniqueConstraint("source_id", name=op.f("uq_checkpoints_source_id")),
    )
    op.create_geospatial_index(
        "idx_checkpoints_geom",
        "checkpoints",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_checkpoints_entrance_id"), "checkpoints", ["entrance_id"], unique=False
    )
    op.create_index(op.f("ix_checkpoints_village_id"), "checkpoints", ["village_id"], unique=False)
    op.create_table(
        "entrance_events",
        sa.Column("entrance_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "from_state",
            sa.Enum(
                "open",
                "sealed",
                "checkpoint",
                name="from_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_state",
            sa.Enum(
                "open",
                "sealed",
                "checkpoint",
                name="to_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_name", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["entrance_id"],
            ["entrances.id"],
            name=op.f("fk_entrance_events_entrance_id_entrances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entrance_events")),
    )
    op.create_index(
        op.f("ix_entrance_events_entrance_id"), "entrance_events", ["entrance_id"], unique=False
    )
    op.create_table(
        "households",
        sa.Column("building_id", sa.BigInteger(), nullable=True),
        sa.Column("grid_id", sa.BigInteger(), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("room", sa.String(length=32), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "normal",
                "home_quarantine",
                "vacant",
                name="household_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("members >= 0", name=op.f("ck_households_members_nonnegative")),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name=op.f("fk_households_building_id_buildings")
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["grids.id"], name=op.f("fk_households_grid_id_grids")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("source_id", name=op.f("uq_households_source_id")),
    )
    op.create_index(op.f("ix_households_building_id"), "households", ["building_id"], unique=False)
    op.create_index(op.f("ix_households_grid_id"), "households", ["grid_id"], unique=False)
    op.create_table(
        "checkpoint_shifts",
        sa.Column("checkpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_checkpoint_shifts_ends_after_start")
        ),
        sa.CheckConstraint("staff_count >= 0", name=op.f("ck_checkpoint_shifts_staff_nonnegative")),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["checkpoints.id"],
            name=op.f("fk_checkpoint_shifts_checkpoint_id_checkpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_shifts")),
    )
    op.create_index(
        op.f("ix_checkpoint_shifts_checkpoint_id"),
        "checkpoint_shifts",
        ["checkpoint_id"],
        unique=False,
    )
    op.create_table(
        "residents",
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("grid_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("returnee", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("close_contact", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("fever", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("quarantine_until", sa.Date(), nullable=True),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "NOT returnee OR (origin IS NOT NULL AND returned_on IS NOT NULL)",
            name=op.f("ck_residents_returnee_has_origin"),
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_residents_grid_id_grids")),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_residents_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
        sa.UniqueConstraint("source_id", name=op.f("uq_residents_source_id")),
    )
    op.create_index(op.f("ix_residents_grid_id"), "residents", ["grid_id"], unique=False)
    op.create_index(op.f("ix_residents_household_id"), "residents", ["household_id"], unique=False)
    op.create_table(
        "visits",
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("grid_id", sa.BigInteger(), nullable=True),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "result",
            sa.Enum(
                "seen_all",
                "partial",
                "nobody_home",
                name="visit_result",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("fever_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("fever_count >= 0", name=op.f("ck_visits_fever_nonnegative")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_visits_grid_id_grids")),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_visits_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["staff.id"], name=op.f("fk_visits_worker_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("source_id", name=op.f("uq_visits_source_id")),
    )
    op.create_index(op.f("ix_visits_grid_id"), "visits", ["grid_id"], unique=False)
    op.create_index(op.f("ix_visits_household_id"), "visits", ["household_id"], unique=False)
    op.create_index(op.f("ix_visits_worker_id"), "visits", ["worker_id"], unique=False)


def downgrade() -> None:
    op.drop_constraint("fk_grids_leader_id_staff", "grids", type_="foreignkey")
    op.drop_index(op.f("ix_visits_worker_id"), table_name="visits")
    op.drop_index(op.f("ix_visits_household_id"), table_name="visits")
    op.drop_index(op.f("ix_visits_grid_id"), table_name="visits")
    op.drop_table("visits")
    op.drop_index(op.f("ix_residents_household_id"), table_name="residents")
    op.drop_index(op.f("ix_residents_grid_id"), table_name="residents")
    op.drop_table("residents")
    op.drop_index(op.f("ix_checkpoint_shifts_checkpoint_id"), table_name="checkpoint_shifts")
    op.drop_table("checkpoint_shifts")
    op.drop_index(op.f("ix_households_grid_id"), table_name="households")
    op.drop_index(op.f("ix_households_building_id"), table_name="households")
    op.drop_table("households")
    op.drop_index(op.f("ix_entrance_events_entrance_id"), table_name="entrance_events")
    op.drop_table("entrance_events")
    op.drop_index(op.f("ix_checkpoints_village_id"), table_name="checkpoints")
    op.drop_index(op.f("ix_checkpoints_entrance_id"), table_name="checkpoints")
    op.drop_geospatial_index(
        "idx_checkpoints_geom",
        table_name="checkpoints",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("checkpoints")
    op.drop_index(op.f("ix_staff_village_id"), table_name="staff")
    op.drop_index(op.f("ix_staff_team_id"), table_name="staff")
    op.drop_index(op.f("ix_staff_grid_id"), table_name="staff")
    op.drop_table("staff")
    op.drop_index(op.f("ix_patrol_zones_village_id"), table_name="patrol_zones")
    op.drop_index(op.f("ix_patrol_zones_team_id"), table_name="patrol_zones")
    op.drop_geospatial_index(
        "idx_patrol_zones_geom",
        table_name="patrol_zones",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("patrol_zones")
    op.drop_index(op.f("ix_entrances_village_id"), table_name="entrances")
    op.drop_index(op.f("ix_entrances_compound_id"), table_name="entrances")
    op.drop_geospatial_index(
        "idx_entrances_geom", table_name="entrances", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("entrances")
    op.drop_index(op.f("ix_buildings_grid_id"), table_name="buildings")
    op.drop_index(op.f("ix_buildings_compound_id"), table_name="buildings")
    op.drop_geospatial_index(
        "idx_buildings_geom", table_name="buildings", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("buildings")
    op.drop_index(op.f("ix_teams_village_id"), table_name="teams")
    op.drop_table("teams")
    op.drop_index(op.f("ix_grids_village_id"), table_name="grids")
    op.drop_geospatial_index(
        "idx_grids_geom", table_name="grids", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("grids")
    op.drop_index(op.f("ix_compounds_village_id"), table_name="compounds")
    op.drop_geospatial_index(
        "idx_compounds_geom", table_name="compounds", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("compounds")
    op.drop_geospatial_index(
        "idx_villages_geom", table_name="villages", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("villages")
    op.drop_table("users")
    op.drop_geospatial_index(
        "idx_roads_geom", table_name="roads", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("roads")
    op.drop_geospatial_index(
        "idx_isolation_sites_geom",
        table_name="isolation_sites",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("isolation_sites")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_table("audit_events")
