"""What the sync of a visit takes: `{"visited_at", "result", "people_seen", "fever_count",
"temperatures": [{"resident", "window", "temperature_c"}], "late"}`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from geodata.params.base import Flag, Number, Whole, whole_range
from geodata.params.operations import SourceId
from geodata.params.query import _moment
from geodata.records.visits import MAX_FEVER_COUNT, MAX_TEMPERATURES

Count = Annotated[Whole, whole_range(0, MAX_FEVER_COUNT)]


class TemperatureParams(BaseModel):
    """One person's temperature at the visit: their source id, the check window (`HH:MM-HH:MM`
    or the due list's `start/end`) and °C (the range is checked with the quarantine's rule)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resident: SourceId
    window: Annotated[str, Field(min_length=3, max_length=80)]
    temperature_c: Number


class VisitParams(BaseModel):
    """A visit as the field app sends it; `idempotency_key` in the body is the older spelling
    of the `Idempotency-Key` header."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    result: Literal["seen_all", "partial", "nobody_home"]
    visited_at: Annotated[datetime, BeforeValidator(_moment)] | None = None
    people_seen: Count | None = None
    fever_count: Count = 0
    temperatures: Annotated[list[TemperatureParams], Field(max_length=MAX_TEMPERATURES)] = []
    late: Flag = None
    idempotency_key: Annotated[str, Field(max_length=100)] | None = None
