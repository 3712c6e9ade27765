"""GeoJSON text parsed: fast by orjson (members counted against the scan's colons), or
strictly by the standard parser, which names a repeated key."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from geodata.imports.files import refuse
from geodata.imports.geojson_text import TextScan


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return obj


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a parser builds millions of containers (none of
    them cyclic): the collector would otherwise walk them again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse(text: str, path: Path) -> Any:
    """Parse strictly (call check_depth first): duplicate keys refused."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKeyError as e:
        raise refuse(path, f"duplicate key {e.key[:40]!r} in a JSON object") from None
    except (ValueError, RecursionError) as e:
        raise refuse(path, f"not valid JSON: {str(e)[:120]}") from None


def members(value: Any) -> int:
    """Members of every object in `value`, not looking inside `coordinates` arrays."""
    n = 0
    if type(value) is dict:
        n = len(value)
        for key, item in value.items():
            if (type(item) is dict or type(item) is list) and key != "coordinates":
                n += members(item)
    elif type(value) is list:
        for item in value:
            if type(item) is dict or type(item) is list:
                n += members(item)
    return n


def parse_fast(utf8: bytes, found: TextScan) -> Any | None:
    """Parse with orjson; None when the strict parser must decide.

    orjson keeps the last of duplicate keys, so the members it kept are counted against the
    colons outside strings: equal counts mean no key repeats. A file orjson refuses (NaN,
    1e400, ...) or whose counts differ (a duplicate, or objects inside coordinates) goes to
    `parse`, which names the problem.
    """
    try:
        doc = orjson.loads(utf8)
    except orjson.JSONDecodeError:
        return None
    return doc if members(doc) == found.colons else None
