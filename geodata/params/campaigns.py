"""What the campaign API takes: a new campaign (a name, villages or grids by code, a start
and a deadline) and the moment its progress is asked at."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from geodata.records.campaigns import MAX_CODES, MAX_NAME_CHARS, NewCampaign, read_moment

MAX_CODE_CHARS = 32


def _moment(value: object) -> object:
    """An ISO date and time; without an offset it stays naive (the town's time, later)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("a date and time (2026-03-01T08:00)")
    return read_moment(value)


def _codes(value: object) -> object:
    """A list of codes, or one text of codes separated by commas."""
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    return value


def _code_list(values: list[str]) -> list[str]:
    if len(values) > MAX_CODES:
        raise ValueError(f"at most {MAX_CODES} codes")
    for code in values:
        if not code.strip() or len(code.strip()) > MAX_CODE_CHARS:
            raise ValueError(f"codes of 1 to {MAX_CODE_CHARS} characters")
    return [code.strip() for code in values]


def _name(value: str) -> str:
    found = value.strip()
    if not found:
        raise ValueError("required")
    if len(found) > MAX_NAME_CHARS:
        raise ValueError(f"at most {MAX_NAME_CHARS} characters")
    return found


Moment = Annotated[datetime, BeforeValidator(_moment)]
Codes = Annotated[list[str], BeforeValidator(_codes), AfterValidator(_code_list)]


class CampaignParams(BaseModel):
    """`{"name", "villages" | "grids", "start", "deadline"}`: the scope as village or grid
    codes (a list, or one text separated by commas), the times as ISO date-times (the
    town's time when they have no offset). Which scope, and the deadline after the start,
    are checked with the records (`geodata.records.campaigns.check`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, AfterValidator(_name)]
    villages: Codes | None = None
    grids: Codes | None = None
    start: Moment
    deadline: Moment

    def new(self) -> NewCampaign:
        return NewCampaign(
            name=self.name,
            start=self.start,
            deadline=self.deadline,
            villages=None if self.villages is None else tuple(self.villages),
            grids=None if self.grids is None else tuple(self.grids),
        )


class ProgressParams(BaseModel):
    """`?at=`: the moment of the progress (default now)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Moment | None = None
