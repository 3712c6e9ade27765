"""What the quarantine API takes: a new quarantine, a check with its temperature and time,
a release or an extension with its reason, a fever alert closed with what was done."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from geodata.params.operations import Reason, SourceId
from geodata.params.query import _day, _moment
from geodata.records.quarantines import REASONS, STATUSES, TYPES

Moment = Annotated[datetime, BeforeValidator(_moment)]


class QuarantineParams(BaseModel):
    """`{"resident", "type", "reason", "origin", "case", "start", "days"}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resident: SourceId
    type: Annotated[str, Field(json_schema_extra={"enum": list(TYPES)})]
    reason: Annotated[str, Field(json_schema_extra={"enum": list(REASONS)})]
    origin: str | None = None
    case: str | None = None
    start: Moment
    days: Annotated[int, Field(ge=1, le=60, strict=True)] | None = None


class CheckParams(BaseModel):
    """`{"temperature_c", "checked_at"}`: °C (a number), and when (default now)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature_c: Annotated[float, Field(strict=False)]
    checked_at: Moment | None = None


class ReleaseParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Reason


class ExtendParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    days: Annotated[int, Field(ge=1, le=60, strict=True)]
    reason: Reason


class CloseAlertParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Reason


class ListParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Annotated[str, Field(pattern="^(" + "|".join(STATUSES) + ")$")] | None = None


class DueParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: Annotated[date, BeforeValidator(_day)] | None = None
