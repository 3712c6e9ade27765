"""Typed SQLAlchemy 2 models with GeoAlchemy2 columns (SRID 4326, typmod and GiST indexes)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from geodata.vocab import (
    CheckpointKind,
    CheckpointState,
    Closure,
    CompoundKind,
    EntranceState,
    HouseholdStatus,
    Period,
    RectificationStatus,
    Role,
    StaffRole,
    TeamKind,
    VillageKind,
    VisitResult,
)

SRID = 4326
WEB_MERCATOR = 3857

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum: a VARCHAR with a CHECK constraint listing the values."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        values_callable=lambda e: [m.value for m in e],
        length=32,
        validate_strings=True,
    )


def geometry(kind: str) -> Any:
    """A geometry column of one type in SRID 4326 with a GiST index."""
    return Geometry(kind, srid=SRID, spatial_index=True)


class IdMixin:
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class Imported(IdMixin, TimestampMixin):
    """A table rows of which arrive by import: a unique source id and an edit version."""

    source_id: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.version}


def valid_geom(table: str) -> CheckConstraint:
    return CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid")


class Village(Imported, Base):
    __tablename__ = "villages"
    __table_args__ = (valid_geom("villages"),)

    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[VillageKind] = mapped_column(_enum(VillageKind, "village_kind"), nullable=False)
    population: Mapped[int | None] = mapped_column(Integer)
    secretary_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", use_alter=True, name="fk_villages_secretary_id_staff")
    )
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTIPOLYGON"), nullable=False)


class Staff(Imported, Base):
    __tablename__ = "staff"

    name: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"), nullable=False)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), nullable=False, index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the person stopped serving; the row stays for the history that names them."""


class Team(Imported, Base):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[TeamKind] = mapped_column(_enum(TeamKind, "team_kind"), nullable=False)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), nullable=False, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    """A group's combat unit (作战单元); None for a combat unit itself."""
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the team was stood down; the row stays for the history that names it."""


class Grid(Imported, Base):
    __tablename__ = "grids"
    __table_args__ = (valid_geom("grids"),)

    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", use_alter=True, name="fk_grids_leader_id_staff")
    )
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTIPOLYGON"), nullable=False)


class Compound(Imported, Base):
    __tablename__ = "compounds"
    __table_args__ = (valid_geom("compounds"),)

    name: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[CompoundKind] = mapped_column(_enum(CompoundKind, "compound_kind"), nullable=False)
    closure: Mapped[Closure] = mapped_column(_enum(Closure, "closure"), nullable=False)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    head_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", use_alter=True, name="fk_compounds_head_id_staff")
    )
    geom: Mapped[WKBElement] = mapped_column(geometry("POLYGON"), nullable=False)


class Building(Imported, Base):
    __tablename__ = "buildings"
    __table_args__ = (
        valid_geom("buildings"),
        CheckConstraint("floors IS NULL OR floors BETWEEN 1 AND 200", name="floors_range"),
    )

    name: Mapped[str | None] = mapped_column(Text)
    floors: Mapped[int | None] = mapped_column(Integer)
    use: Mapped[str | None] = mapped_column(String(64))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    head_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", use_alter=True, name="fk_buildings_head_id_staff")
    )
    geom: Mapped[WKBElement] = mapped_column(geometry("POLYGON"), nullable=False)
    geom_3857: Mapped[WKBElement] = mapped_column(
        Geometry("POLYGON", srid=WEB_MERCATOR, spatial_index=False),
        Computed("ST_Transform(geom, 3857)", persisted=True),
        nullable=False,
        deferred=True,
    )
    """The outline in Web Mercator for vector tiles, computed by PostgreSQL from `geom`; no
    index of its own (tiles find outlines through `geom`'s)."""


class Road(Imported, Base):
    __tablename__ = "roads"
    __table_args__ = (valid_geom("roads"),)

    highway: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(geometry("LINESTRING"), nullable=False)


class Household(Imported, Base):
    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint("members >= 0", name="members_nonnegative"),
        # Whether any household lies outside every grid (the coverage cache then stands
        # aside), answered without reading the table (migration 0022).
        Index("ix_households_no_grid", "id", postgresql_where=text("grid_id IS NULL")),
    )

    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    unit: Mapped[str | None] = mapped_column(String(32))
    room: Mapped[str | None] = mapped_column(String(32))
    members: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[HouseholdStatus] = mapped_column(
        _enum(HouseholdStatus, "household_status"), nullable=False
    )
    last_visited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The latest of its visits, kept by statement triggers on `visits` (migration 0007)."""


class Resident(Imported, Base):
    __tablename__ = "residents"
    __table_args__ = (
        CheckConstraint(
            "NOT returnee OR (origin IS NOT NULL AND returned_on IS NOT NULL)",
            name="returnee_has_origin",
        ),
    )

    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), nullable=False, index=True
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    id_number: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    returnee: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    origin: Mapped[str | None] = mapped_column(Text)
    returned_on: Mapped[date | None] = mapped_column(Date)
    close_contact: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    fever: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    quarantine_until: Mapped[date | None] = mapped_column(Date)


class Entrance(Imported, Base):
    __tablename__ = "entrances"
    __table_args__ = (
        CheckConstraint("(compound_id IS NOT NULL) <> (village_id IS NOT NULL)", name="one_owner"),
        valid_geom("entrances"),
    )

    name: Mapped[str | None] = mapped_column(Text)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    state: Mapped[EntranceState] = mapped_column(
        _enum(EntranceState, "entrance_state"), nullable=False
    )
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    changed_by: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(geometry("POINT"), nullable=False)


class EntranceEvent(IdMixin, Base):
    """Every state change of an entrance, so that any past day can be replayed."""

    __tablename__ = "entrance_events"

    entrance_id: Mapped[int] = mapped_column(
        ForeignKey("entrances.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    from_state: Mapped[EntranceState | None] = mapped_column(_enum(EntranceState, "from_state"))
    to_state: Mapped[EntranceState] = mapped_column(
        _enum(EntranceState, "to_state"), nullable=False
    )
    user_name: Mapped[str | None] = mapped_column(Text)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reason: Mapped[str | None] = mapped_column(Text)


class Checkpoint(Imported, Base):
    __tablename__ = "checkpoints"
    __table_args__ = (
        valid_geom("checkpoints"),
        CheckConstraint("radius_m > 0", name="radius_positive"),
        CheckConstraint("staff_per_shift >= 1", name="staff_positive"),
    )

    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[CheckpointKind] = mapped_column(
        _enum(CheckpointKind, "checkpoint_kind"), nullable=False
    )
    state: Mapped[CheckpointState] = mapped_column(
        _enum(CheckpointState, "checkpoint_state"), nullable=False
    )
    staff_per_shift: Mapped[int] = mapped_column(Integer, nullable=False)
    radius_m: Mapped[float] = mapped_column(Float, nullable=False)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    entrance_id: Mapped[int | None] = mapped_column(ForeignKey("entrances.id"), index=True)
    geom: Mapped[WKBElement] = mapped_column(geometry("POINT"), nullable=False)


class CheckpointEvent(IdMixin, Base):
    """Every state a checkpoint took, from when it was made: written by triggers on
    checkpoints (migration 0008), so that any past day can be replayed."""

    __tablename__ = "checkpoint_events"
    __table_args__ = (Index("ix_checkpoint_events_checkpoint_id_at", "checkpoint_id", "at"),)

    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="CASCADE"), nullable=False
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    from_state: Mapped[CheckpointState | None] = mapped_column(_enum(CheckpointState, "from_state"))
    to_state: Mapped[CheckpointState | None] = mapped_column(_enum(CheckpointState, "to_state"))
    """None for a staffing event."""
    user_name: Mapped[str | None] = mapped_column(Text)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="state")
    """`state`, or `staff_on`/`staff_off`: a person put on a shift or taken off it
    (migration 0013)."""
    shift_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkpoint_shifts.id", ondelete="SET NULL")
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class CheckpointShift(IdMixin, Base):
    __tablename__ = "checkpoint_shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("staff_count >= 0", name="staff_nonnegative"),
        CheckConstraint("num_nonnulls(checkpoint_id, patrol_zone_id) = 1", name="one_post"),
    )

    checkpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="CASCADE"), index=True
    )
    patrol_zone_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_zones.id"), index=True)
    """A shift is kept at a checkpoint or on a patrol zone (migration 0028), never both."""
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    staff_count: Mapped[int] = mapped_column(Integer, nullable=False)
    """The head count: the people on the shift who were not taken off it, kept by triggers
    on shift_staff (migrations 0010 and 0013)."""
    source_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")


class ShiftStaff(IdMixin, Base):
    """One person on one shift. The shift's times are copied here by a trigger, so that an
    exclusion constraint refuses a person on two overlapping shifts at write time."""

    __tablename__ = "shift_staff"

    shift_id: Mapped[int] = mapped_column(
        ForeignKey("checkpoint_shifts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), nullable=False, index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    joins_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When a person put on a running shift (or planned to join later) starts."""
    leaves_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When a person taken off a shift leaves; `starts_at`/`ends_at` are the shift's times
    cut to these two."""


class PatrolZone(Imported, Base):
    __tablename__ = "patrol_zones"
    __table_args__ = (valid_geom("patrol_zones"),)

    name: Mapped[str] = mapped_column(Text, nullable=False)
    period: Mapped[Period] = mapped_column(_enum(Period, "period"), nullable=False)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTIPOLYGON"), nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When a new plan replaced the zone; the row stays, with the shifts that name it."""


class PatrolZoneHistory(IdMixin, Base):
    """Each earlier state of a patrol zone, written by triggers on every change of its
    outline, name, period, team, village or retirement, and on a delete (migration 0028)."""

    __tablename__ = "patrol_zone_history"
    __table_args__ = (CheckConstraint("change IN ('update', 'delete')", name="change"),)

    zone_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    source_id: Mapped[str] = mapped_column(String(128), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    period: Mapped[Period] = mapped_column(_enum(Period, "period"), nullable=False)
    team_id: Mapped[int | None] = mapped_column(BigInteger)
    village_id: Mapped[int | None] = mapped_column(BigInteger)
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTIPOLYGON"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    valid_to: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    change: Mapped[str] = mapped_column(Text, nullable=False)


class IsolationSite(Imported, Base):
    __tablename__ = "isolation_sites"
    __table_args__ = (
        valid_geom("isolation_sites"),
        CheckConstraint("beds >= 0 AND reserve_rooms >= 0", name="capacity_nonnegative"),
        CheckConstraint("beds_used BETWEEN 0 AND beds", name="beds_used_within_beds"),
    )

    name: Mapped[str] = mapped_column(Text, nullable=False)
    beds: Mapped[int] = mapped_column(Integer, nullable=False)
    beds_used: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    reserve_rooms: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    geom: Mapped[WKBElement] = mapped_column(geometry("POINT"), nullable=False)


class Visit(Imported, Base):
    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint("fever_count >= 0", name="fever_nonnegative"),
        # a household's latest visit (screening, due today, household tiles)
        Index("ix_visits_household_id_visited_at", "household_id", "visited_at"),
        # the visits of a period across the town (screened in the last 24 h, as of a date)
        Index("ix_visits_visited_at", "visited_at"),
    )

    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), nullable=False
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    result: Mapped[VisitResult] = mapped_column(_enum(VisitResult, "visit_result"), nullable=False)
    fever_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    people_seen: Mapped[int | None] = mapped_column(Integer)
    """How many of the household's members were seen (migration 0014)."""
    request_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the normalised body the visit was recorded with (migration 0017): a
    replayed idempotency key with another body is a conflict."""


class Quarantine(IdMixin, Base):
    """A person's quarantine from start to release (migration 0014). Personal data: row
    security by grid, as residents. One active quarantine per person."""

    __tablename__ = "quarantines"
    __table_args__ = (
        Index(
            "uq_quarantines_one_active",
            "resident_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
    )

    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    origin: Mapped[str | None] = mapped_column(Text)
    case_ref: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="active")
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    created_by: Mapped[str | None] = mapped_column(Text)


class IsolationRoom(IdMixin, Base):
    """A room of an isolation site; a reserve room is held back unless allowed."""

    __tablename__ = "isolation_rooms"
    __table_args__ = (UniqueConstraint("site_id", "number"),)

    site_id: Mapped[int] = mapped_column(
        ForeignKey("isolation_sites.id", ondelete="CASCADE"), nullable=False
    )
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    reserve: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")


class IsolationBed(IdMixin, Base):
    __tablename__ = "isolation_beds"
    __table_args__ = (UniqueConstraint("room_id", "label"),)

    room_id: Mapped[int] = mapped_column(
        ForeignKey("isolation_rooms.id", ondelete="CASCADE"), nullable=False
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("isolation_sites.id", ondelete="CASCADE"), nullable=False, index=True
    )
    label: Mapped[str] = mapped_column(String(32), nullable=False)


class BedAssignment(IdMixin, Base):
    """Who is in which bed from when until when (no end: still there). An exclusion
    constraint refuses two assignments of one bed at once (migration 0015)."""

    __tablename__ = "bed_assignments"

    bed_id: Mapped[int] = mapped_column(ForeignKey("isolation_beds.id"), nullable=False, index=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    quarantine_id: Mapped[int | None] = mapped_column(
        ForeignKey("quarantines.id", ondelete="CASCADE")
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_by: Mapped[str | None] = mapped_column(Text)


class FeverAlert(IdMixin, Base):
    """Opened by a check of 37.3 °C or more; open until someone records what was done."""

    __tablename__ = "fever_alerts"

    quarantine_id: Mapped[int] = mapped_column(
        ForeignKey("quarantines.id", ondelete="CASCADE"), nullable=False, index=True
    )
    check_id: Mapped[int | None] = mapped_column(
        ForeignKey("quarantine_checks.id", ondelete="CASCADE")
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    temperature_c: Mapped[Decimal] = mapped_column(Numeric(3, 1), nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    action: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[str | None] = mapped_column(Text)


class Campaign(IdMixin, Base):
    """A screening campaign (排查): every household of its grids seen and every registered
    person counted between its start and its deadline."""

    __tablename__ = "campaigns"

    name: Mapped[str] = mapped_column(Text, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class CampaignGrid(Base):
    __tablename__ = "campaign_grids"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True
    )


class QuarantineChange(IdMixin, Base):
    """An extension, early release, release at the end or transfer of a quarantine."""

    __tablename__ = "quarantine_changes"

    quarantine_id: Mapped[int] = mapped_column(
        ForeignKey("quarantines.id", ondelete="CASCADE"), nullable=False, index=True
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)


class QuarantineCheck(IdMixin, Base):
    """A temperature taken of a quarantined person, in °C."""

    __tablename__ = "quarantine_checks"
    __table_args__ = (
        Index("ix_quarantine_checks_quarantine_id_checked_at", "quarantine_id", "checked_at"),
    )

    quarantine_id: Mapped[int] = mapped_column(
        ForeignKey("quarantines.id", ondelete="CASCADE"), nullable=False
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    temperature_c: Mapped[Decimal] = mapped_column(Numeric(3, 1), nullable=False)
    recorded_by: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), nullable=False)
    display_name: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    activation_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    activation_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), unique=True)
    """The person this account is: the visits it records name them as the worker."""
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class UserGrid(Base):
    """A grid in a user's scope (grid workers)."""

    __tablename__ = "user_grids"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class UserVillage(Base):
    """A village in a user's scope (commanders and planners of some villages)."""

    __tablename__ = "user_villages"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    village_id: Mapped[int] = mapped_column(
        ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApiToken(IdMixin, Base):
    """A revocable bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A server-side browser session: revocable, keyed by the SHA-256 of its cookie."""

    __tablename__ = "web_sessions"

    sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RateLimitCount(Base):
    """The hits of one rate-limit key in its current fixed window (shared by every process)."""

    __tablename__ = "rate_limit_counts"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, index=True
    )


class AuditEvent(IdMixin, Base):
    """Who did what to which objects, and how many rows: never the personal values."""

    __tablename__ = "audit_events"

    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    row_count: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class PublishedTable(Base):
    """A table of figures about people as first published for a closed day: frozen, so a
    later change to that day's records never shows as a difference of two publications."""

    __tablename__ = "published_tables"

    source: Mapped[str] = mapped_column(String(128), primary_key=True)
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    figures: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    units: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    frozen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class DisclosureSecret(Base):
    """The one secret the perturbation of published counts is keyed with."""

    __tablename__ = "disclosure_secret"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret: Mapped[str] = mapped_column(String(64), nullable=False)
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


class TownSetting(Base):
    """One configurable value of the town (`wangge town show|set`), as JSON."""

    __tablename__ = "town_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_by: Mapped[str | None] = mapped_column(Text)


class Inspection(IdMixin, Base):
    """A leader's daily inspection (督导) of a checkpoint, with its checklist."""

    __tablename__ = "inspections"
    __table_args__ = (Index("ix_inspections_checkpoint_id_at", "checkpoint_id", "at"),)

    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="CASCADE"), nullable=False
    )
    inspector_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    staff_present: Mapped[bool] = mapped_column(Boolean, nullable=False)
    temperatures_taken: Mapped[bool] = mapped_column(Boolean, nullable=False)
    register_kept: Mapped[bool] = mapped_column(Boolean, nullable=False)
    masks: Mapped[bool] = mapped_column(Boolean, nullable=False)
    disinfection: Mapped[bool] = mapped_column(Boolean, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)


class Rectification(IdMixin, TimestampMixin, Base):
    """A rectification item (整改事项) found at a checkpoint: its owner fixes it by a
    deadline, someone else verifies it."""

    __tablename__ = "rectifications"
    __table_args__ = (
        CheckConstraint(
            "verified_by_id IS NULL OR verified_by_id <> fixed_by_id", name="verifier_not_fixer"
        ),
        CheckConstraint(
            "(status = 'open') = (fixed_by_id IS NULL) AND "
            "(status = 'verified') = (verified_by_id IS NOT NULL)",
            name="status_follows_people",
        ),
    )

    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="CASCADE"), nullable=False, index=True
    )
    inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspections.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), nullable=False)
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[RectificationStatus] = mapped_column(
        _enum(RectificationStatus, "rectification_status"),
        nullable=False,
        server_default="open",
    )
    fixed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    fixed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")


class DailyReport(IdMixin, Base):
    """A unit's 16:00 report of a town day (migration 0018): the figures computed from the
    records when it was confirmed (counts, never people), the corrections its responsible
    person made, and the last visit taken in (`visits_through`): later visits count in the
    next day's figures unless an amendment takes them in."""

    __tablename__ = "daily_reports"
    __table_args__ = (
        UniqueConstraint("day", "unit_kind", "unit_key", name="uq_daily_reports_unit_day"),
        CheckConstraint("unit_kind IN ('grid', 'village', 'combat_unit')", name="unit_kind_known"),
    )

    day: Mapped[date] = mapped_column(Date, nullable=False)
    unit_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    unit_key: Mapped[str] = mapped_column(String(128), nullable=False)
    zero: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    late: Mapped[bool] = mapped_column(Boolean, nullable=False)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    corrections: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    note: Mapped[str | None] = mapped_column(Text)
    visits_through: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    confirmed_by: Mapped[str] = mapped_column(Text, nullable=False)
    amendments: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    amended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    frozen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DailyAmendment(IdMixin, Base):
    """A change to a confirmed report: what the figures became, by whom, why."""

    __tablename__ = "daily_amendments"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("daily_reports.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    by: Mapped[str] = mapped_column(Text, nullable=False)
    corrections: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    took_in: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    note: Mapped[str | None] = mapped_column(Text)


class DailyTaskList(Base):
    """A grid worker's task list for a town day, as built at 19:00 the day before."""

    __tablename__ = "daily_task_lists"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    worker: Mapped[str] = mapped_column(String(64), primary_key=True)
    tasks: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class DailyRun(Base):
    """One step of the daily clock done for a town day (`wangge daily run`)."""

    __tablename__ = "daily_runs"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    step: Mapped[str] = mapped_column(String(16), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")


TABLES: tuple[str, ...] = tuple(Base.metadata.tables)


class DailySummary(Base):
    """The 18:00 summary of a town day, frozen when first issued (migration 0019)."""

    __tablename__ = "daily_summaries"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class SupplyItem(Base):
    """An item of the supplies ledger, by code, with its unit (migration 0023)."""

    __tablename__ = "supply_items"

    id: Mapped[int] = mapped_column(SmallInteger, Identity(always=False), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    unit: Mapped[str] = mapped_column(String(32), nullable=False)
    kit: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))


class SupplyHolder(Base):
    """Who holds stock: the town store, or a team, checkpoint or isolation site by source id."""

    __tablename__ = "supply_holders"

    id: Mapped[int] = mapped_column(Integer, Identity(always=False), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    ref_id: Mapped[int | None] = mapped_column(BigInteger)


class LedgerEntry(Base):
    """A receipt, transfer, use or reversal: never changed (a trigger refuses it)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_day", "day"),
        Index("ix_ledger_entries_in", "to_holder_id", "item_id", "day"),
        Index("ix_ledger_entries_out", "from_holder_id", "item_id", "day"),
        Index("ix_ledger_entries_donations", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False)
    from_holder_id: Mapped[int | None] = mapped_column(ForeignKey("supply_holders.id"))
    to_holder_id: Mapped[int | None] = mapped_column(ForeignKey("supply_holders.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    donor: Mapped[str | None] = mapped_column(Text)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    posted_by: Mapped[str] = mapped_column(Text, nullable=False)
    posted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class SupplyThreshold(Base):
    """The low-stock level of a holder and item."""

    __tablename__ = "supply_thresholds"

    holder_id: Mapped[int] = mapped_column(ForeignKey("supply_holders.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"), primary_key=True)
    minimum: Mapped[int] = mapped_column(BigInteger, nullable=False)


class SupplyMonthTotal(Base):
    """A holder and item's net change in a month, kept by a trigger (migration 0025)."""

    __tablename__ = "supply_month_totals"

    holder_id: Mapped[int] = mapped_column(ForeignKey("supply_holders.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    net: Mapped[int] = mapped_column(BigInteger, nullable=False)


class DisinfectionPlace(IdMixin, Base):
    """A public place to disinfect a number of rounds a day (migration 0024)."""

    __tablename__ = "disinfection_places"

    source_id: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    rounds_per_day: Mapped[int] = mapped_column(Integer, nullable=False)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id"))
    geom: Mapped[WKBElement | None] = mapped_column(geometry("POINT"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class DisinfectionRound(IdMixin, Base):
    """A round of disinfection at a place: when, who, the agent; never in the future."""

    __tablename__ = "disinfection_rounds"
    __table_args__ = (Index("ix_disinfection_rounds_place_at", "place_id", "at"),)

    source_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("disinfection_places.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    agent: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_by: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class PatrolRoute(IdMixin, Base):
    """A zone's stored patrol route (migration 0026); storing the zone's route again retires
    this one (`retired_at`), which is kept."""

    __tablename__ = "patrol_routes"
    __table_args__ = (
        Index(
            "uq_patrol_routes_zone_current",
            "zone",
            unique=True,
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    zone: Mapped[str] = mapped_column(String(128), nullable=False)
    period: Mapped[str] = mapped_column(String(16), nullable=False)
    station: Mapped[str] = mapped_column(Text, nullable=False)
    route_m: Mapped[float] = mapped_column(Float, nullable=False)
    street_m: Mapped[float] = mapped_column(Float, nullable=False)
    hours: Mapped[float] = mapped_column(Float, nullable=False)
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PatrolLoop(IdMixin, Base):
    """One loop of a stored route, from the station and back (migration 0026)."""

    __tablename__ = "patrol_loops"
    __table_args__ = (UniqueConstraint("route_id", "loop"), valid_geom("patrol_loops"))

    route_id: Mapped[int] = mapped_column(
        ForeignKey("patrol_routes.id", ondelete="CASCADE"), nullable=False
    )
    loop: Mapped[int] = mapped_column(Integer, nullable=False)
    period: Mapped[str] = mapped_column(String(16), nullable=False)
    route_m: Mapped[float] = mapped_column(Float, nullable=False)
    hours: Mapped[float] = mapped_column(Float, nullable=False)
    geom: Mapped[WKBElement] = mapped_column(geometry("LINESTRING"), nullable=False)


# -- caches of figures (migrations 0020 and 0022): kept exact by triggers on the records ------

household_hexagons = Table(
    "household_hexagons",
    Base.metadata,
    Column("z", SmallInteger, nullable=False),
    Column("i", Integer, nullable=False),
    Column("j", Integer, nullable=False),
    Column("grid_id", BigInteger),
    Column("building_grid_id", BigInteger),
    Column("households", Integer, nullable=False),
    Column("never_visited", Integer, nullable=False),
    Column("last_visits", ARRAY(DateTime(timezone=True)), nullable=False),
    Column("max_visit", DateTime(timezone=True)),
    Index("ix_household_hexagons_cell", "z", "i", "j"),
    comment=(
        "The households of the buildings whose centroid lies in hexagon (i, j) of zoom z, per"
        " grid of the households (grid_id) and of the building: how many, how many never"
        " visited, and the latest visit of each of the others, sorted (width_bucket counts"
        " those at or before a moment)"
    ),
)
"""The households tiles' hexagons per zoom, cell and grid (geodata.maps.hexagon_cache)."""


class HouseholdHexagonStale(Base):
    """A hexagon cell that a write has made stale."""

    __tablename__ = "household_hexagons_stale"

    z: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    i: Mapped[int] = mapped_column(Integer, primary_key=True)
    j: Mapped[int] = mapped_column(Integer, primary_key=True)


class HouseholdHexagonState(Base):
    """Whether the hexagons are to be rebuilt whole, and when they last were."""

    __tablename__ = "household_hexagons_state"
    __table_args__ = (CheckConstraint("one", name="one"),)

    one: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=text("true"))
    rebuild: Mapped[bool] = mapped_column(Boolean, nullable=False)
    built_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CoverageCacheState(Base):
    """The structure generation that structural writes move on (geodata.records.coverage_cache)."""

    __tablename__ = "coverage_cache_state"
    __table_args__ = (CheckConstraint("one", name="one"),)

    one: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=text("true"))
    structure: Mapped[int] = mapped_column(BigInteger, nullable=False)
    places: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("1"))
    """Moved on by any write to entrances, their events or compounds (migration 0027)."""


class TileGeneration(Base):
    """A tile layer's generation: every statement writing the layer's table moves it on
    (triggers of migration 0032), so the tiles' data version is this one row."""

    __tablename__ = "tile_generations"

    layer: Mapped[str] = mapped_column(Text, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, nullable=False)


class CoverageGridVersion(Base):
    """A grid's visit version, moved on by its households' visits."""

    __tablename__ = "coverage_grid_versions"

    grid_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    visits: Mapped[int] = mapped_column(BigInteger, nullable=False)


class CoverageGridCache(Base):
    """A grid's structural coverage figures for one key, under a structure generation."""

    __tablename__ = "coverage_grid_cache"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    grid_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    structure: Mapped[int] = mapped_column(BigInteger, nullable=False)
    counts: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)


class CoverageGridVisits(Base):
    """A grid's households' latest visits, sorted, under its visit version."""

    __tablename__ = "coverage_grid_visits"

    grid_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    structure: Mapped[int] = mapped_column(BigInteger, nullable=False)
    visits: Mapped[int] = mapped_column(BigInteger, nullable=False)
    households: Mapped[int] = mapped_column(Integer, nullable=False)
    last_visits: Mapped[list[datetime]] = mapped_column(
        ARRAY(DateTime(timezone=True)), nullable=False
    )
    max_visit: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# -- enterprises resuming work, their passes, and publicity (migration 0029) -----------------


class RiskArea(IdMixin, Base):
    """An outbreak area admins keep, with its days; retired, never removed."""

    __tablename__ = "risk_areas"

    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    from_day: Mapped[date] = mapped_column(Date, nullable=False)
    until_day: Mapped[date | None] = mapped_column(Date)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class Enterprise(IdMixin, Base):
    """An enterprise (a point or a polygon) with its staff counts, screened before it resumes."""

    __tablename__ = "enterprises"

    source_id: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), nullable=False, index=True)
    responsible: Mapped[str] = mapped_column(Text, nullable=False)
    staff_total: Mapped[int] = mapped_column(Integer, nullable=False)
    staff_local: Mapped[int] = mapped_column(Integer, nullable=False)
    geom: Mapped[WKBElement] = mapped_column(geometry("GEOMETRY"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class EnterpriseRiskStaff(Base):
    """How many of an enterprise's staff come from one risk area."""

    __tablename__ = "enterprise_risk_staff"

    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), primary_key=True
    )
    risk_area_id: Mapped[int] = mapped_column(ForeignKey("risk_areas.id"), primary_key=True)
    staff: Mapped[int] = mapped_column(Integer, nullable=False)


class EnterpriseReview(IdMixin, Base):
    """A resumption review: the checklist, the decision, the reviewer and the day (a log)."""

    __tablename__ = "enterprise_reviews"
    __table_args__ = (Index("ix_enterprise_reviews_enterprise_id", "enterprise_id", "reviewed_on"),)

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), nullable=False)
    decision: Mapped[str] = mapped_column(String(16), nullable=False)
    risk_staff_cleared: Mapped[bool] = mapped_column(Boolean, nullable=False)
    masks_in_stock: Mapped[bool] = mapped_column(Boolean, nullable=False)
    disinfectant_in_stock: Mapped[bool] = mapped_column(Boolean, nullable=False)
    canteen_rules: Mapped[bool] = mapped_column(Boolean, nullable=False)
    dormitory_rules: Mapped[bool] = mapped_column(Boolean, nullable=False)
    health_officer: Mapped[bool] = mapped_column(Boolean, nullable=False)
    conditions: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(Text, nullable=False)
    reviewed_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class Pass(IdMixin, Base):
    """A pass for a returning member of an enterprise's staff: a resident, or a person named
    by name and ID number (personal data)."""

    __tablename__ = "passes"

    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id"), nullable=False, index=True
    )
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    person_name: Mapped[str | None] = mapped_column(Text)
    person_id_number: Mapped[str | None] = mapped_column(String(32))
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    issued_by: Mapped[str] = mapped_column(Text, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class PublicityPoint(IdMixin, Base):
    """A banner, sign or notice board (a point) or a loudspeaker route (a line)."""

    __tablename__ = "publicity_points"

    source_id: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    put_up_on: Mapped[date] = mapped_column(Date, nullable=False)
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), nullable=False, index=True)
    geom: Mapped[WKBElement] = mapped_column(geometry("GEOMETRY"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
