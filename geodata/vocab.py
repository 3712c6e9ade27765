"""The words of the domain: the kinds, states and roles that rows and users take.

Plain enums, apart from the tables (geodata.models) so that code that only names them loads
no ORM and no GIS column types.
"""

from __future__ import annotations

import enum


class VillageKind(enum.StrEnum):
    VILLAGE = "village"
    COMMUNITY = "community"
    URBAN_VILLAGE = "urban_village"


class CompoundKind(enum.StrEnum):
    RESIDENTIAL = "residential_compound"
    BUILDING_YARD = "building_yard"


class Closure(enum.StrEnum):
    OPEN = "open"
    SEALED_MANAGED = "sealed_managed"


class EntranceState(enum.StrEnum):
    OPEN = "open"
    SEALED = "sealed"
    CHECKPOINT = "checkpoint"


class CheckpointKind(enum.StrEnum):
    VILLAGE_GATE = "village_gate"
    ROAD = "road"
    COMPOUND_GATE = "compound_gate"
    MONITORING_POINT = "monitoring_point"


class CheckpointState(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class HouseholdStatus(enum.StrEnum):
    NORMAL = "normal"
    HOME_QUARANTINE = "home_quarantine"
    VACANT = "vacant"


class VisitResult(enum.StrEnum):
    SEEN_ALL = "seen_all"
    PARTIAL = "partial"
    NOBODY_HOME = "nobody_home"


class TeamKind(enum.StrEnum):
    COMBAT_UNIT = "combat_unit"
    """A village's combat unit (作战单元): its groups are the teams below, its children."""
    HOUSEHOLD_VISIT = "household_visit"
    """The household-visit group (入户组) of a grid (was `grid`)."""
    CHECKPOINT = "checkpoint"
    EMERGENCY = "emergency"
    PATROL = "patrol"


class StaffRole(enum.StrEnum):
    VILLAGE_SECRETARY = "village_secretary"
    GRID_LEADER = "grid_leader"
    GRID_WORKER = "grid_worker"
    YARD_HEAD = "yard_head"
    BUILDING_HEAD = "building_head"
    CHECKPOINT_STAFF = "checkpoint_staff"
    PATROL = "patrol"


class RectificationStatus(enum.StrEnum):
    """A rectification item (整改事项): open, fixed by its owner, verified by another."""

    OPEN = "open"
    FIXED = "fixed"
    VERIFIED = "verified"


class Period(enum.StrEnum):
    DAY = "day"
    NIGHT = "night"


class Role(enum.StrEnum):
    ADMIN = "admin"
    COMMANDER = "commander"
    PLANNER = "planner"
    ANALYST = "analyst"
    GRID_WORKER = "grid_worker"


CANDIDATE_KINDS = (
    "checkpoint",
    "compound_entrance",
    "village_entrance",
    "road_crossing",
    "road_junction",
)
"""Where a checkpoint may be placed: an existing one, an entrance, a road crossing or junction."""
SHIFTS_PER_DAY = 3
"""Checkpoints are staffed around the clock in three shifts."""
