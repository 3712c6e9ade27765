"""What the command post sends: a state change of an entrance or a checkpoint, and a person
put on or taken off a shift. Each carries the version it saw, the staff member responsible
(a source id) and a reason; a state change may name the moment it takes effect."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from geodata.params.base import BIGINT_MAX, Whole, whole_range
from geodata.params.query import _moment

MAX_REASON_CHARS = 500
MAX_SOURCE_ID_CHARS = 128


def _text(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        found = value.strip()
        if not found:
            raise ValueError("required")
        if len(found) > limit:
            raise ValueError(f"at most {limit} characters")
        return found

    return AfterValidator(check)


Reason = Annotated[str, _text(MAX_REASON_CHARS)]
SourceId = Annotated[str, _text(MAX_SOURCE_ID_CHARS)]
Version = Annotated[Whole, whole_range(1, BIGINT_MAX)]


class StateChangeParams(BaseModel):
    """`{"state", "version", "reason", "responsible", "effective_at"}`; `effective_at` (an ISO
    date-time, the town's time when it has no offset) is optional: now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: SourceId
    version: Version
    reason: Reason
    responsible: SourceId
    effective_at: Annotated[datetime, BeforeValidator(_moment)] | None = None


class ShiftStaffParams(BaseModel):
    """`{"staff", "version", "reason", "responsible", "effective_at"}`: the person put on (or
    taken off) the shift, the shift's version seen, who is responsible and why, and when the
    person joins (or leaves): optional, now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    staff: SourceId
    version: Version
    reason: Reason
    responsible: SourceId
    effective_at: Annotated[datetime, BeforeValidator(_moment)] | None = None
