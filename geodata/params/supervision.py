"""What supervision (督导) sends: a checkpoint's inspection with its checklist, a
rectification item found there, and an item fixed or verified (with the version seen)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StrictBool

from geodata.params.base import BIGINT_MAX, Whole, whole_range
from geodata.params.operations import SourceId, Version
from geodata.params.query import _moment

MAX_NOTES_CHARS = 2000


def _optional_text(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value.strip()) > MAX_NOTES_CHARS:
        raise ValueError(f"at most {MAX_NOTES_CHARS} characters")
    return value.strip()


def _required_text(value: str) -> str:
    found = _optional_text(value)
    if found is None:
        raise ValueError("required")
    return found


Moment = Annotated[datetime, BeforeValidator(_moment)]
Notes = Annotated[str | None, AfterValidator(_optional_text)]
Description = Annotated[str, AfterValidator(_required_text)]
RowId = Annotated[Whole, whole_range(1, BIGINT_MAX)]


class InspectionParams(BaseModel):
    """A daily inspection of a checkpoint: who (a staff source id), when (default now) and
    the checklist, each item true or false."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoint: SourceId
    inspector: SourceId
    at: Moment | None = None
    staff_present: StrictBool
    temperatures_taken: StrictBool
    register_kept: StrictBool
    masks: StrictBool
    disinfection: StrictBool
    notes: Notes = None


class RectificationParams(BaseModel):
    """An item to put right at a checkpoint: what, whose (a staff source id), by when, and
    the inspection that found it (optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoint: SourceId
    description: Description
    owner: SourceId
    deadline: Moment
    inspection: RowId | None = None


class RectificationStepParams(BaseModel):
    """An item fixed or verified: by whom (a staff source id), the version seen, when
    (default now)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: SourceId
    version: Version
    at: Moment | None = None
