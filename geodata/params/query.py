"""A page of rows, a bounding box and a moment or a day (`as_of`), from query parameters
or a command's options."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ValidationInfo,
    field_validator,
)

from geodata.bbox import BBox, BBoxError, parse_bbox
from geodata.errors import ConfigError
from geodata.params.base import BIGINT_MAX, query_whole, validate
from geodata.records.as_of import parse_as_of

# -- pages, boxes and days -----------------------------------------------------------------


class PageParams(BaseModel):
    """A page of rows: `limit` at least 1, clamped to the pager's maximum (as OGC API
    Features asks), and `offset` from 0 to the bigint."""

    limit: Annotated[int, BeforeValidator(query_whole)] = 100
    offset: Annotated[int, BeforeValidator(query_whole)] = 0

    @field_validator("limit")
    @classmethod
    def _clamped(cls, value: int, info: ValidationInfo) -> int:
        if value < 1:
            raise ValueError("a whole number, at least 1")
        maximum = (info.context or {}).get("max_limit")
        return min(value, int(maximum)) if maximum is not None else value

    @field_validator("offset")
    @classmethod
    def _within_bigint(cls, value: int) -> int:
        if not 0 <= value <= BIGINT_MAX:
            raise ValueError(f"a whole number from 0 to {BIGINT_MAX}")
        return value


def page(args: Mapping[str, str], *, default_limit: int, max_limit: int) -> PageParams:
    """The page that query parameters (`limit`, `offset`; blank ones absent) ask for."""
    given = {k: args[k] for k in ("limit", "offset") if k in args and str(args[k]).strip()}
    return validate(PageParams, {"limit": default_limit, **given}, max_limit=max_limit)


def _bbox(value: object) -> object:
    if isinstance(value, BBox):
        return value
    try:
        return parse_bbox(str(value))
    except BBoxError as exc:
        reason = str(exc)
        raise ValueError(reason.removeprefix("bbox ")) from None


def _moment(value: object) -> object:
    if isinstance(value, datetime):
        return value
    try:
        return parse_as_of(str(value))
    except (ConfigError, OverflowError):  # 9999-12-31's end is past datetime's range
        raise ValueError("an ISO date or date-time") from None


def _day(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError("a date as YYYY-MM-DD") from None


class FilterParams(BaseModel):
    """Where and when: `bbox` (WGS84, W,S,E,N), `as_of` a moment (a date is its end)."""

    bbox: Annotated[BBox, BeforeValidator(_bbox)] | None = None
    as_of: Annotated[datetime, BeforeValidator(_moment)] | None = None


class DayParams(BaseModel):
    """Where and on which day: `bbox`, and `as_of` a date (exports: the end of that day)."""

    bbox: Annotated[BBox, BeforeValidator(_bbox)] | None = None
    as_of: Annotated[date, BeforeValidator(_day)] | None = None


def _present(args: Mapping[str, str | None]) -> dict[str, str]:
    """`bbox` when given, even blank (a blank box is refused); `as_of` when not blank."""
    found = {"bbox": args.get("bbox"), "as_of": (args.get("as_of") or "").strip() or None}
    return {name: str(value) for name, value in found.items() if value is not None}


def filters(args: Mapping[str, str | None]) -> FilterParams:
    """`bbox` and `as_of` (a moment) from query parameters or a command's options."""
    return validate(FilterParams, _present(args))


def day_filters(args: Mapping[str, str | None]) -> DayParams:
    """`bbox` and `as_of` (a day) from query parameters or a command's options."""
    return validate(DayParams, _present(args))
