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
    GRID = "grid"
    CHECKPOINT = "checkpoint"
    PATROL = "patrol"


class StaffRole(enum.StrEnum):
    GRID_LEADER = "grid_leader"
    GRID_WORKER = "grid_worker"
    CHECKPOINT_STAFF = "checkpoint_staff"
    PATROL = "patrol"


class Period(enum.StrEnum):
    DAY = "day"
    NIGHT = "night"


class Role(enum.StrEnum):
    ADMIN = "admin"
    COMMANDER = "commander"
    PLANNER = "planner"
    ANALYST = "analyst"
    GRID_WORKER = "grid_worker"
