"""A FeatureCollection read a chunk of features at a time from its mapped bytes, laid out by
the byte scan."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from geodata.imports.files import refuse
from geodata.imports.geojson_checks import legacy_crs_name
from geodata.imports.geojson_parse import members, parse, paused_gc
from geodata.imports.geojson_text import UTF8_BOM, Buffer, release, scan_layout

_FEATURES_KEY = re.compile(rb'"features"\s*:\s*$')
_BLANK = b" \t\r\n"


@dataclass
class FeatureStream:
    """A FeatureCollection whose features are parsed a chunk at a time from its bytes."""

    path: Path
    data: Buffer
    starts: npt.NDArray[np.int64]
    ends: npt.NDArray[np.int64]
    colons_before_start: npt.NDArray[np.int64]
    colons_before_end: npt.NDArray[np.int64]
    legacy_crs: str | None

    @property
    def feature_count(self) -> int:
        return len(self.starts)

    def chunks(self, size: int) -> Iterator[tuple[int, list[Any], bool]]:
        """(index of the first feature, the parsed features, whether orjson parsed them: no
        NaN or Infinity then) for each run of `size` features.

        Each chunk's members are counted against its colons (a repeated key makes them differ);
        a chunk orjson refuses or whose counts differ is parsed again by the strict parser,
        which names the problem (a duplicate key refuses the whole file).
        """
        n = self.feature_count
        for first in range(0, n, size):
            last = min(first + size, n) - 1
            body = b"[" + self.data[int(self.starts[first]) : int(self.ends[last]) + 1] + b"]"
            colons = int(self.colons_before_end[last] - self.colons_before_start[first])
            features: Any
            try:
                with paused_gc():
                    features = orjson.loads(body)
            except orjson.JSONDecodeError:
                features = None
            parsed_fast = type(features) is list and members(features) == colons
            if not parsed_fast:
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    raise refuse(
                        self.path, "the file is not UTF-8 text (likely GBK): pass --encoding gbk"
                    ) from None
                features = parse(text, self.path)
            del body
            release(self.data, int(self.ends[last]) + 1)
            if type(features) is not list or len(features) != last - first + 1:
                raise refuse(
                    self.path, "the features array holds values that are not Feature objects"
                )
            yield first, features, parsed_fast


def open_stream(data: Buffer, path: Path) -> FeatureStream | None:
    """Check a FeatureCollection's text (depth, keys of its top-level object, legacy crs) and
    locate its features; None when the text is not laid out so (the whole-document reader
    then decides)."""
    base = len(UTF8_BOM) if data[: len(UTF8_BOM)] == UTF8_BOM else 0
    layout = scan_layout(data, base, path)
    found = [
        (i, (start, end))
        for i, (start, end) in enumerate(layout.arrays)
        if _FEATURES_KEY.search(data[max(base, start - 64) : start])
    ]
    if len(found) != 1:
        return None
    i, (open_at, close_at) = found[0]
    inside = (layout.starts > open_at) & (layout.starts < close_at)
    starts, ends = (
        layout.starts[inside],
        layout.ends[(layout.ends > open_at) & (layout.ends < close_at)],
    )
    if len(starts) != len(ends) or (
        len(starts) and not ((starts < ends).all() and (ends[:-1] < starts[1:]).all())
    ):
        return None
    if len(starts):
        gaps = [data[open_at + 1 : int(starts[0])], data[int(ends[-1]) + 1 : close_at]]
    else:
        gaps = [data[open_at + 1 : close_at]]
    if any(gap.strip(_BLANK) for gap in gaps):
        return None
    colons_in_array = layout.array_colons[i][1] - layout.array_colons[i][0]
    try:
        skeleton = orjson.loads(data[base : open_at + 1] + data[close_at:])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(skeleton, dict) or skeleton.get("type") != "FeatureCollection":
        return None
    if members(skeleton) != layout.colons - colons_in_array:
        return None
    return FeatureStream(
        path=path,
        data=data,
        starts=starts,
        ends=ends,
        colons_before_start=layout.colons_before_start[inside],
        colons_before_end=layout.colons_before_end[
            (layout.ends > open_at) & (layout.ends < close_at)
        ],
        legacy_crs=legacy_crs_name(skeleton, path),
    )
