"""What the people page sends: a person added or edited, a team added, a shift added, a
person put on a shift or taken off. Objects are named by source id, villages and grids by
code; an empty optional field is absent."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from geodata.params.operations import SourceId
from geodata.params.query import _moment
from geodata.vocab import StaffRole, TeamKind

PHONE = re.compile(r"\+?[0-9][0-9 -]{2,30}")


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _phone(value: str) -> str:
    found = value.strip()
    if not PHONE.fullmatch(found):
        raise ValueError("digits, spaces, '-' and a leading '+' (3 to 32 characters)")
    return found


Moment = Annotated[datetime, BeforeValidator(_moment)]
Optional = BeforeValidator(_blank_is_none)
MaybeSourceId = Annotated[SourceId | None, Optional]
Phone = Annotated[str, AfterValidator(_phone)]


class StaffParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source_id: SourceId
    name: SourceId
    role: StaffRole
    village: SourceId
    team: MaybeSourceId = None
    grid: MaybeSourceId = None
    phone: Annotated[Phone | None, Optional] = None


class StaffEditParams(BaseModel):
    """The fields to change; the others are left as they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_id: SourceId
    name: MaybeSourceId = None
    role: Annotated[StaffRole | None, Optional] = None
    team: MaybeSourceId = None
    grid: MaybeSourceId = None
    phone: Annotated[Phone | None, Optional] = None


class TeamParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source_id: SourceId
    name: SourceId
    kind: TeamKind
    village: SourceId
    parent: MaybeSourceId = None


class ShiftParams(BaseModel):
    """A shift of a checkpoint; times in the town's zone unless they carry an offset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_id: SourceId
    checkpoint: SourceId
    starts_at: Moment
    ends_at: Moment


class AssignmentParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    shift: SourceId
    staff: SourceId


class RetireParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source_id: SourceId
