"""A checkpoint plan, the sites sent with it and the seal plans to apply, as asked."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from geodata.vocab import CANDIDATE_KINDS as KINDS
from geodata.vocab import SHIFTS_PER_DAY

if TYPE_CHECKING:
    from geodata.analysis.placement.plan import PlanRequest
from geodata.params.base import Flag, Number, Whole, number_range, whole_range

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


# -- a checkpoint plan ---------------------------------------------------------------------


class PlanParams(BaseModel):
    """A checkpoint plan as asked (field names as `wangge plan checkpoints`' options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Literal["mclp", "lscp"] = "mclp"
    budget: Annotated[Whole, whole_range(0, MAX_POSTS)] | None = None
    radius_m: Annotated[Number, number_range(0.0, MAX_RADIUS_M, open_low=True)]
    staff_budget: Annotated[Whole, whole_range(0, MAX_POSTS * 100)] | None = None
    shifts: Annotated[Whole, whole_range(1, 24)] | None = None
    staff_per_shift: Annotated[Whole, whole_range(1, 100)] | None = None
    share: Annotated[Number, number_range(0.0, 1.0, open_low=True)] | None = None
    keep_existing: Flag = False
    network: Flag = False
    greedy: Flag = False
    time_limit_s: Annotated[Number, number_range(0.0, MAX_TIME_LIMIT_S, open_low=True)] | None = (
        None
    )
    weight: Literal["members", "households"] = "members"

    @model_validator(mode="after")
    def _needs_a_budget(self) -> PlanParams:
        if self.model == "mclp" and self.budget is None and self.staff_budget is None:
            raise ValueError("budget or staff_budget: the maximal covering model needs one")
        return self

    def plan_request(self, *, default_time_limit_s: float | None = None) -> PlanRequest:
        """The analysis' request; `default_time_limit_s` when none was asked for."""
        # Imported here: validating a request loads none of the solver's libraries.
        from geodata.analysis.placement.plan import PlanRequest

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

    radius_m: Annotated[Number, number_range(0.0, MAX_RADIUS_M, open_low=True)] = DEFAULT_RADIUS_M
    staff_per_shift: Annotated[Whole, whole_range(1, 100)] = DEFAULT_STAFF_PER_SHIFT
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

    radius_m: Annotated[Number, number_range(0.0, MAX_RADIUS_M, open_low=True)] = DEFAULT_RADIUS_M
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
