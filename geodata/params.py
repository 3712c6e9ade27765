"""Request parameters checked once, by pydantic, for the API and the command line alike.

The models hold the bounds: a checkpoint plan and the sites sent with it, a page of rows, a
bounding box and a moment or day (`as_of`). A refusal is one `RequestError` (HTTP 400, exit
code 2) whose message names the field and gives the reason in our words, never the value
sent: `budget: a whole number`, `site 2: not a longitude/latitude`, `limit: at least 1`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from geodata.analysis.placement.candidates import KINDS
from geodata.analysis.placement.plan import SHIFTS_PER_DAY, PlanRequest
from geodata.bbox import BBox, BBoxError, parse_bbox
from geodata.errors import ConfigError
from geodata.records.as_of import parse_as_of

BIGINT_MAX = 2**63 - 1
"""The largest id or offset PostgreSQL takes (bigint)."""

MAX_RADIUS_M = 100_000.0
MAX_POSTS = 10_000
MAX_SITES = 2_000
MAX_TIME_LIMIT_S = 60.0
DEFAULT_TIME_LIMIT_S = 20.0
"""The API's solve time when none is asked for (the command line then has no limit)."""
DEFAULT_RADIUS_M = 500.0
DEFAULT_STAFF_PER_SHIFT = 2
MAX_ID_CHARS = 128
SITE_KINDS = (*KINDS, "site")
SITE_LISTS = ("selected", "sites")
"""Lists of sites: a refusal inside one names the site by its place (from 1)."""


class RequestError(ConfigError):
    """Request parameters that do not make sense: 400 on the web, exit code 2 (usage)."""

    def __init__(self, message: str, *, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields
        """The fields named, first refusal first (for tests and clients)."""


# -- field types ---------------------------------------------------------------------------


def _whole(value: object) -> object:
    """A whole number: an int, a float without fraction (JSON's 5.0); never text or a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("a whole number")
        return int(value)
    return value


def _number(value: object) -> object:
    """A finite number; never text, a bool, NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("a number")
    return float(value)


def _range(low: float, high: float, *, open_low: bool = False) -> AfterValidator:
    def check(value: float) -> float:
        if (value <= low if open_low else value < low) or value > high:
            raise ValueError(f"{'more than' if open_low else 'from'} {low:g} and at most {high:g}")
        return value

    return AfterValidator(check)


def _whole_range(low: int, high: int) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"from {low} to {high}")
        return value

    return AfterValidator(check)


Whole = Annotated[int, BeforeValidator(_whole)]
Number = Annotated[float, BeforeValidator(_number)]
Flag = StrictBool | None
"""true or false; null reads as false."""

_QUERY_WHOLE = re.compile(r"[+-]?[0-9]+")


def query_whole(value: object) -> object:
    """A query parameter's text as a whole number (`" 20 "`, `+3`); not `1e3`, `2.0` or `x`.

    More than 19 digits reads as one past the bigint, so that bounds refuse or clamp it.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if _QUERY_WHOLE.fullmatch(text) is None:
        raise ValueError("a whole number")
    digits = text.lstrip("+-").lstrip("0") or "0"
    sign = -1 if text.startswith("-") else 1
    return sign * (BIGINT_MAX + 1) if len(digits) > 19 else int(text)


# -- validation ----------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def _list_name(loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 2 and loc[0] in SITE_LISTS and isinstance(loc[1], int):
        return f"site {loc[1] + 1}"
    return ".".join(str(part) for part in loc)


def _reason(error: ErrorDetails) -> str:
    """Our words for one refusal: from our validators, else by pydantic's error type."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind == "literal_error":
        return str(ctx.get("expected", "")).replace("'", "")
    if kind in ("too_long", "too_short") and error["loc"] and error["loc"][-1] in SITE_LISTS:
        return f"at most {ctx.get('max_length')} sites" if kind == "too_long" else "no site"
    return {
        "missing": "required",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "list_type": "a list",
        "too_long": f"at most {ctx.get('max_length')} items",
        "too_short": f"at least {ctx.get('min_length')} items",
        "model_type": "an object",
        "model_attributes_type": "an object",
        "dict_type": "an object",
        "int_type": "a whole number",
        "int_parsing": "a whole number",
        "int_from_float": "a whole number",
        "float_type": "a number",
        "float_parsing": "a number",
        "finite_number": "a number",
        "string_type": "text",
        "string_too_long": f"at most {ctx.get('max_length')} characters",
    }.get(kind, "not valid")


def request_error(exc: ValidationError) -> RequestError:
    """One RequestError for all of pydantic's refusals: unknown fields together, then the
    first other refusal as `field: reason` (the value sent is never repeated)."""
    errors = exc.errors(include_url=False, include_input=False)
    unknown = [str(e["loc"][-1]) for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        return RequestError(f"unknown fields: {', '.join(unknown)[:200]}", fields=tuple(unknown))
    first = errors[0]
    name = _list_name(first["loc"])
    message = f"{name}: {_reason(first)}" if name else _reason(first)
    return RequestError(message, fields=(name,) if name else ())


def validate(model: type[M], data: object, **context: Any) -> M:
    """`data` (a JSON object, query parameters or a command's options) read as `model`."""
    if not isinstance(data, Mapping):
        raise RequestError("send a JSON object (Content-Type: application/json)")
    try:
        return model.model_validate(dict(data), context=context)
    except ValidationError as exc:
        raise request_error(exc) from None


# -- a checkpoint plan ---------------------------------------------------------------------


class PlanParams(BaseModel):
    """A checkpoint plan as asked (field names as `wangge plan checkpoints`' options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Literal["mclp", "lscp"] = "mclp"
    budget: Annotated[Whole, _whole_range(0, MAX_POSTS)] | None = None
    radius_m: Annotated[Number, _range(0.0, MAX_RADIUS_M, open_low=True)]
    staff_budget: Annotated[Whole, _whole_range(0, MAX_POSTS * 100)] | None = None
    shifts: Annotated[Whole, _whole_range(1, 24)] | None = None
    staff_per_shift: Annotated[Whole, _whole_range(1, 100)] | None = None
    share: Annotated[Number, _range(0.0, 1.0, open_low=True)] | None = None
    keep_existing: Flag = False
    network: Flag = False
    greedy: Flag = False
    time_limit_s: Annotated[Number, _range(0.0, MAX_TIME_LIMIT_S, open_low=True)] | None = None
    weight: Literal["members", "households"] = "members"

    @model_validator(mode="after")
    def _needs_a_budget(self) -> PlanParams:
        if self.model == "mclp" and self.budget is None and self.staff_budget is None:
            raise ValueError("budget or staff_budget: the maximal covering model needs one")
        return self

    def plan_request(self, *, default_time_limit_s: float | None = None) -> PlanRequest:
        """The analysis' request; `default_time_limit_s` when none was asked for."""
        return PlanRequest(
            radius_m=self.radius_m,
            model=self.model,
            budget=self.budget,
            staff_budget=self.staff_budget,
            shifts=SHIFTS_PER_DAY if self.shifts is None else self.shifts,
            staff_per_shift=self.staff_per_shift or DEFAULT_STAFF_PER_SHIFT,
            share=1.0 if self.share is None else self.share,
            keep_existing=bool(self.keep_existing),
            network=bool(self.network),
            exact=not self.greedy,
            time_limit_s=default_time_limit_s if self.time_limit_s is None else self.time_limit_s,
        )


def _site_coordinate(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("lon and lat are numbers")
    return float(value)


def _site_id(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("id is a string")
    if len(str(value)) > MAX_ID_CHARS:
        raise ValueError(f"id is at most {MAX_ID_CHARS} characters")
    return str(value)


def _site_kind(value: object) -> object:
    if value not in SITE_KINDS:
        raise ValueError(f"kind is one of {', '.join(SITE_KINDS)}")
    return value


class SiteParams(BaseModel):
    """One site sent with a plan: id (default: its place in the list), kind, lon, lat."""

    model_config = ConfigDict(frozen=True)

    id: Annotated[str | None, BeforeValidator(_site_id)] = None
    kind: Annotated[str, BeforeValidator(_site_kind)] = "site"
    lon: Annotated[float, BeforeValidator(_site_coordinate)] = math.nan
    lat: Annotated[float, BeforeValidator(_site_coordinate)] = math.nan

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: object) -> object:
        if not isinstance(data, dict):
            raise ValueError("an object with id, kind, lon and lat")
        return {"lon": None, "lat": None, **data}

    @model_validator(mode="after")
    def _on_earth(self) -> SiteParams:
        if not (-180 <= self.lon <= 180 and -90 <= self.lat <= 90):
            raise ValueError("not a longitude/latitude")
        return self

    def as_dict(self, number: int) -> dict[str, Any]:
        return {"id": self.id or str(number), "kind": self.kind, "lon": self.lon, "lat": self.lat}


Sites = Annotated[list[SiteParams], Field(max_length=MAX_SITES)]


def site_dicts(sites: list[SiteParams]) -> list[dict[str, Any]]:
    return [site.as_dict(number) for number, site in enumerate(sites, start=1)]


class ApplyParams(BaseModel):
    """Sites to write as checkpoints: `site_ids` of the town's candidates, or `selected`."""

    radius_m: Annotated[Number, _range(0.0, MAX_RADIUS_M, open_low=True)] = DEFAULT_RADIUS_M
    staff_per_shift: Annotated[Whole, _whole_range(1, 100)] = DEFAULT_STAFF_PER_SHIFT
    site_ids: Annotated[list[str], Field(max_length=MAX_SITES)] | None = None
    selected: Sites | None = None

    @field_validator("site_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
            raise ValueError("a list of site ids (strings)")
        if len(value) > MAX_SITES:
            raise ValueError(f"at most {MAX_SITES} sites")
        return value

    @field_validator("selected", mode="before")
    @classmethod
    def _a_list(cls, value: object) -> object:
        if not isinstance(value, list):
            raise ValueError("a list of sites")
        return value

    @model_validator(mode="before")
    @classmethod
    def _one_of_two(cls, data: object) -> object:
        if isinstance(data, dict) and ("site_ids" in data) == ("selected" in data):
            raise ValueError("give either site_ids or a proposal's selected sites")
        return data


class ScoreParams(BaseModel):
    """The demand reached by `sites` (default: the active checkpoints) within `radius_m`."""

    radius_m: Annotated[Number, _range(0.0, MAX_RADIUS_M, open_low=True)] = DEFAULT_RADIUS_M
    network: Flag = False
    sites: Sites | None = None

    @field_validator("sites", mode="before")
    @classmethod
    def _a_list(cls, value: object) -> object:
        if value is not None and not isinstance(value, list):
            raise ValueError("a list of sites")
        return value


def _compound_ids(value: object) -> object:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or len(value) > MAX_SITES
        or not all(isinstance(c, int) and not isinstance(c, bool) for c in value)
    ):
        raise ValueError("a list of compound ids (whole numbers)")
    return value


class SealApplyParams(BaseModel):
    """The compounds whose seal plan to apply: `compound_ids`, or every one with `all`."""

    compound_ids: Annotated[list[int] | None, BeforeValidator(_compound_ids)] = None
    all: Flag = False

    @model_validator(mode="after")
    def _one_of_two(self) -> SealApplyParams:
        if (self.compound_ids is None) == (not self.all):
            raise ValueError('give either compound_ids or "all": true')
        return self


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
    except ConfigError:
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
