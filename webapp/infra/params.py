"""Request parameters checked before use: whole numbers within bounds, text without control
characters, ids in paths that fit a PostgreSQL bigint, and `next` only as a path on this site.

A refusal is a 400 whose message is ours and names the parameter: never Python's own text
(`invalid literal for int()`), never the value sent.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, Map

from geodata.analysis.coverage.screening import MAX_WINDOW_H
from geodata.params import RequestError

BIGINT_MAX = 2**63 - 1
"""The largest id or offset PostgreSQL takes (bigint); a larger one fails in the database."""

_WHOLE = re.compile(r"[+-]?[0-9]{1,19}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""C0 and C1 control characters, DEL and NUL among them."""


def json_object() -> dict[str, Any]:
    """The request's JSON object (RequestError, a 400, when it is not one)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise RequestError("send a JSON object (Content-Type: application/json)")
    return body


def window_h_arg() -> float | None:
    """`?window_h=`: the screening window in hours (None: the town's), or a 400."""
    raw = request.args.get("window_h")
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        abort(400, "window_h: a number of hours")
    if not 0 < value <= MAX_WINDOW_H:
        abort(400, f"window_h: more than 0 and at most {MAX_WINDOW_H} hours")
    return value


def has_control_characters(value: str) -> bool:
    """Whether `value` holds a NUL, CR, LF, tab or any other control character."""
    return _CONTROL.search(value) is not None


def parse_whole(name: str, raw: str, *, low: int, high: int) -> int:
    """`raw` as a whole number in [low, high], or a 400 naming `name` and the range."""
    text = raw.strip()
    if _WHOLE.fullmatch(text) is None or not low <= int(text) <= high:
        abort(400, description=f"{name}: a whole number from {low} to {high}")
    return int(text)


def whole(name: str, *, default: int, low: int = 0, high: int = BIGINT_MAX) -> int:
    """The query parameter `name` as a whole number in [low, high]; `default` when absent."""
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return default
    return parse_whole(name, raw, low=low, high=high)


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site (`/...`), else None.

    Refused: a scheme or host (`https://...`, `//host`), a backslash (browsers read `/\\host`
    as `//host`), and control characters (CR/LF would split the Location header).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or has_control_characters(target):
        return None
    return target


class IdConverter(IntegerConverter):
    """`<int:...>` in a URL: at most 19 digits and at most a bigint, else the URL is not found."""

    regex = r"\d{1,19}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", BIGINT_MAX)
        super().__init__(map, *args, **kwargs)


def _refuse_control_characters() -> None:
    """Every query parameter and path segment: a control character is refused (400)."""
    for name, value in request.args.items(multi=True):
        if has_control_characters(name) or has_control_characters(value):
            shown = name if not has_control_characters(name) else "a query parameter"
            abort(400, description=f"{shown}: text without control characters")
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and has_control_characters(value):
            abort(400, description=f"{name}: text without control characters")


def init_app(app: Flask) -> None:
    """Ids in URLs bounded (call before any blueprint is registered); control characters refused."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_control_characters)
