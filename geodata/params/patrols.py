"""What the planner's patrol zones page sends: a proposal's options, a move of one street
block to another zone, and the edited assignment to apply."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from geodata.params.base import Flag, Whole, whole_range

MAX_ZONES = 500
MAX_UNITS = 100_000
"""Street blocks in one assignment (the sample town has about 1,500)."""
MAX_UNIT = 10_000_000

_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,32}")
_TOWN = re.compile(r"[0-9a-f]{32}")


def _code(value: str) -> str:
    if not _CODE.fullmatch(value):
        raise ValueError("a village code (letters, digits, _ . : -, at most 32)")
    return value


def _town(value: str) -> str:
    if not _TOWN.fullmatch(value):
        raise ValueError("the proposal's town (32 hexadecimal digits)")
    return value


Period = Literal["day", "night"]
Village = Annotated[str, AfterValidator(_code)] | None
Town = Annotated[str, AfterValidator(_town)]
Units = Annotated[list[Annotated[Whole, whole_range(0, MAX_UNIT)]], Field(max_length=MAX_UNITS)]
Zones = Annotated[list[Annotated[Whole, whole_range(1, MAX_ZONES)]], Field(max_length=MAX_UNITS)]


class ProposeZonesParams(BaseModel):
    """`{"zones", "period", "village", "by", "keep_existing"}` as `wangge plan patrols`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zones: Annotated[Whole, whole_range(1, MAX_ZONES)]
    period: Period
    village: Village = None
    by: Literal["hours", "households", "road_m"] = "hours"
    keep_existing: Flag = False


class AssignmentParams(BaseModel):
    """A proposal's assignment as the page holds it: `units` and each one's zone (1..k)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    town: Town
    period: Period
    village: Village = None
    by: Literal["hours", "households", "road_m"] = "hours"
    keep_existing: Flag = False
    units: Units
    zones: Zones


class MoveParams(AssignmentParams):
    """The assignment and a move: street block `unit` to zone `zone`."""

    unit: Annotated[Whole, whole_range(0, MAX_UNIT)]
    zone: Annotated[Whole, whole_range(1, MAX_ZONES)]
