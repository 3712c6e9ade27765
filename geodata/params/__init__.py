"""Request parameters checked once, by pydantic, for the API and the command line alike.

The models hold the bounds: a checkpoint plan and the sites sent with it (`plan`), a page of
rows, a bounding box and a moment or day (`query`). A refusal is one `RequestError` (HTTP
400, exit code 2) whose message names the field and gives the reason in our words, never the
value sent: `budget: a whole number`, `site 2: not a longitude/latitude`, `limit: ...`.
"""

from geodata.params.base import BIGINT_MAX, RequestError, request_error, validate
from geodata.params.plan import (
    DEFAULT_RADIUS_M,
    DEFAULT_TIME_LIMIT_S,
    MAX_ID_CHARS,
    MAX_POSTS,
    MAX_RADIUS_M,
    MAX_SITES,
    MAX_TIME_LIMIT_S,
    ApplyParams,
    PlanParams,
    ScoreParams,
    SealApplyParams,
    SiteParams,
    site_dicts,
)
from geodata.params.query import (
    DayParams,
    FilterParams,
    PageParams,
    day_filters,
    filters,
    page,
)

__all__ = [
    "BIGINT_MAX",
    "DEFAULT_RADIUS_M",
    "DEFAULT_TIME_LIMIT_S",
    "MAX_ID_CHARS",
    "MAX_POSTS",
    "MAX_RADIUS_M",
    "MAX_SITES",
    "MAX_TIME_LIMIT_S",
    "ApplyParams",
    "DayParams",
    "FilterParams",
    "PageParams",
    "PlanParams",
    "RequestError",
    "ScoreParams",
    "SealApplyParams",
    "SiteParams",
    "day_filters",
    "filters",
    "page",
    "request_error",
    "site_dicts",
    "validate",
]
