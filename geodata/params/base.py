"""The ground of the request models: RequestError, the field types and `validate`."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    StrictBool,
    ValidationError,
)
from pydantic_core import ErrorDetails

from geodata.errors import ConfigError

BIGINT_MAX = 2**63 - 1
"""The largest id or offset PostgreSQL takes (bigint)."""

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


def number_range(low: float, high: float, *, open_low: bool = False) -> AfterValidator:
    def check(value: float) -> float:
        if (value <= low if open_low else value < low) or value > high:
            raise ValueError(f"{'more than' if open_low else 'from'} {low:g} and at most {high:g}")
        return value

    return AfterValidator(check)


def whole_range(low: int, high: int) -> AfterValidator:
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
