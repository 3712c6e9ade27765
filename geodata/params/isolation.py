"""What the isolation API takes: the proposal's switches (keep families together, use the
reserve rooms) and the moment the beds are counted at."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from geodata.params.base import Flag
from geodata.params.query import _moment


class AssignParams(BaseModel):
    """`{"keep_families", "use_reserve"}`: true or false (null or absent: false)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_families: Flag = False
    use_reserve: Flag = False


class BedsParams(BaseModel):
    """`?at=`: a date-time (no offset: town time) or a date (its end); absent: now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Annotated[datetime, BeforeValidator(_moment)] | None = None
