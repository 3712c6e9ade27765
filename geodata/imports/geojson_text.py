"""Strict checks of GeoJSON text before GDAL reads it: nesting, keys, numbers, positions, crs."""

from __future__ import annotations

import gc
import json
import math
import mmap
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from geodata.imports.files import decode_text, refuse
from geodata.imports.report import Issue

MAX_DEPTH = 64
Buffer = bytes | mmap.mmap
"""The text of a file: read into memory, or mapped."""
GEOMETRY = "geometry"

_EPSG_NAME = re.compile(r"^(?:urn:ogc:def:crs:)?EPSG:(?:[\d.]*:)?:?(\d+)$", re.IGNORECASE)
_UTF8_BOM = b"\xef\xbb\xbf"
_CRS84_NAMES = {"urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84", "ogc:crs84"}

# Nesting depth of `coordinates` for each geometry type: 0 is one position.
_COORDINATE_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


@dataclass
class GeoJsonCheck:
    """What the text says: per-feature problems, the feature count, a legacy crs member, 3-D."""

    feature_count: int
    issues: list[Issue] = field(default_factory=list)
    legacy_crs: str | None = None
    """The CRS a legacy `crs` member names, as 'EPSG:NNNN' or 'OGC:CRS84'; None when absent."""
    z_features: int = 0
    """Features with 3-D positions (the Z is dropped later, with a warning)."""
    three_d: set[int] = field(default_factory=set)
    """Which features those are."""

    @property
    def failed_features(self) -> set[int]:
        return {i.feature for i in self.issues if i.feature is not None}


@dataclass(frozen=True)
class TextScan:
    """What one linear scan of JSON text finds outside strings."""

    depth: int
    """The deepest nesting of arrays and objects."""
    colons: int
    """Colons outside strings: one per member of every object, duplicates included."""


_QUOTE, _COLON, _BACKSLASH = ord('"'), ord(":"), ord("\\")
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("{"), ord("[")]] = 1
_STEP[[ord("}"), ord("]")]] = -1
_EVENT = (_STEP != 0) | (np.arange(256) == _QUOTE) | (np.arange(256) == _COLON)
_EVENT_BYTES = bytes(_EVENT.astype(np.uint8))
"""For bytes.translate: 1 where a byte is an event (a bracket, a brace, a quote or a colon)."""


def _events(block: bytes) -> npt.NDArray[np.intp]:
    """Offsets of the events in `block`, found by a byte translation (faster than a lookup
    through a numpy index array)."""
    return np.flatnonzero(np.frombuffer(block.translate(_EVENT_BYTES), dtype=np.bool_))


def scan(data: bytes) -> TextScan:
    """Nesting depth and member count, by one linear (vectorised) scan.

    A bracket or colon is inside a string when an odd number of unescaped quotes precede it.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    events = _events(data)
    kinds = arr[events]
    is_quote = kinds == _QUOTE
    quotes = events[is_quote]
    maybe_escaped = quotes[(quotes > 0) & (arr[np.maximum(quotes - 1, 0)] == _BACKSLASH)]
    escaped = [q for q in maybe_escaped.tolist() if _backslashes_before(data, q) % 2 == 1]
    if escaped:
        is_quote[np.searchsorted(events, np.asarray(escaped, dtype=np.intp))] = False
    outside = (np.cumsum(is_quote, dtype=np.uint8) & 1) == 0
    outside &= ~is_quote
    colons = int(np.count_nonzero(outside & (kinds == _COLON)))
    steps = _STEP[kinds[outside]]
    depth = int(np.cumsum(steps, dtype=np.int64).max()) if len(steps) else 0
    return TextScan(depth=max(depth, 0), colons=colons)


def max_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects (brackets inside strings do not count)."""
    return scan(data).depth


def _backslashes_before(data: Buffer, end: int) -> int:
    start = end
    while start > 0 and data[start - 1] == 0x5C:
        start -= 1
    return end - start


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


def check_depth(utf8: bytes, path: Path) -> TextScan:
    """Refuse nesting deeper than MAX_DEPTH, before any parser recurses into it."""
    found = scan(utf8)
    if found.depth > MAX_DEPTH:
        raise refuse(
            path, f"JSON nesting is {found.depth} levels deep, over the limit of {MAX_DEPTH}"
        )
    return found


def parse(text: str, path: Path) -> Any:
    """Parse strictly (call check_depth first): duplicate keys refused."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKeyError as e:
        raise refuse(path, f"duplicate key {e.key[:40]!r} in a JSON object") from None
    except (ValueError, RecursionError) as e:
        raise refuse(path, f"not valid JSON: {str(e)[:120]}") from None


def _members(value: Any) -> int:
    """Members of every object in `value`, not looking inside `coordinates` arrays."""
    n = 0
    if type(value) is dict:
        n = len(value)
        for key, item in value.items():
            if (type(item) is dict or type(item) is list) and key != "coordinates":
                n += _members(item)
    elif type(value) is list:
        for item in value:
            if type(item) is dict or type(item) is list:
                n += _members(item)
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
    return doc if _members(doc) == found.colons else None


def legacy_crs_name(doc: dict[str, Any], path: Path) -> str | None:
    """The CRS a legacy (2008) `crs` member names: 'EPSG:NNNN', 'OGC:CRS84', or None if absent."""
    crs = doc.get("crs")
    if crs is None:
        return None
    if not isinstance(crs, dict) or not isinstance(crs.get("properties"), dict):
        raise refuse(path, "the legacy crs member is malformed")
    props = crs["properties"]
    if crs.get("type") == "EPSG" and isinstance(props.get("code"), int):
        return f"EPSG:{props['code']}"
    name = props.get("name")
    if crs.get("type") == "name" and isinstance(name, str):
        if name.lower() in _CRS84_NAMES:
            return "OGC:CRS84"
        m = _EPSG_NAME.match(name.strip())
        if m:
            return f"EPSG:{int(m.group(1))}"
    raise refuse(path, "the legacy crs member names no EPSG code: pass a file in WGS84 (RFC 7946)")


def _is_number(v: object) -> bool:
    return type(v) is float or type(v) is int


def _check_positions(positions: Any) -> tuple[str | None, bool]:
    """(problem, has_z) of a list of positions."""
    if type(positions) is not list:
        return "coordinates are not an array of positions", False
    has_z = False
    for p in positions:
        if type(p) is not list:
            return "a position is not an array of numbers", False
        n = len(p)
        if n == 2:
            x, y = p
            if not (_is_number(x) and _is_number(y)):
                return "a coordinate is not a number (string coordinates are refused)", False
            if not (math.isfinite(x) and math.isfinite(y)):
                return "a coordinate is NaN or infinite (or overflows, like 1e400)", False
        elif n == 3:
            if not all(_is_number(c) for c in p):
                return "a coordinate is not a number (string coordinates are refused)", False
            if not all(math.isfinite(c) for c in p):
                return "a coordinate is NaN or infinite (or overflows, like 1e400)", False
            has_z = True
        elif n == 4:
            return "4-D positions (x, y, z, m) are refused", False
        else:
            return f"a position has {n} values: expected 2 (or 3)", False
    return None, has_z


def _check_coordinates(coords: Any, depth: int) -> tuple[str | None, bool]:
    if depth == 0:
        return _check_positions([coords])
    if depth == 1:
        return _check_positions(coords)
    if type(coords) is not list:
        return "coordinates are not nested arrays", False
    has_z = False
    for part in coords:
        problem, z = _check_coordinates(part, depth - 1)
        if problem:
            return problem, False
        has_z = has_z or z
    return None, has_z


def check_geometry(geom: Any, *, expect_geometry: bool) -> tuple[str | None, bool]:
    """(problem, has_z) of one GeoJSON geometry object."""
    if geom is None:
        return ("geometry is null" if expect_geometry else None), False
    if not isinstance(geom, dict):
        return "geometry is not an object", False
    kind = geom.get("type")
    if kind == "GeometryCollection":
        parts = geom.get("geometries")
        if type(parts) is not list:
            return "a GeometryCollection without a geometries array", False
        has_z = False
        for part in parts:
            if isinstance(part, dict) and part.get("type") == "GeometryCollection":
                return "nested GeometryCollections are refused", False
            problem, z = check_geometry(part, expect_geometry=True)
            if problem:
                return problem, False
            has_z = has_z or z
        return None, has_z
    depth = _COORDINATE_DEPTH.get(kind) if isinstance(kind, str) else None
    if depth is None:
        shown = repr(kind)[:40] if kind is not None else "none"
        return f"unknown geometry type {shown}", False
    if "coordinates" not in geom:
        return f"a {kind} without coordinates", False
    return _check_coordinates(geom["coordinates"], depth)


def features_of(doc: Any, path: Path) -> list[Any]:
    if not isinstance(doc, dict):
        raise refuse(path, "not a GeoJSON object")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if type(features) is not list:
            raise refuse(path, "a FeatureCollection without a features array")
        return features
    if kind == "Feature":
        return [doc]
    if kind in _COORDINATE_DEPTH or kind == "GeometryCollection":
        return [{"type": "Feature", "properties": None, "geometry": doc}]
    raise refuse(path, "not GeoJSON: the top-level type is not FeatureCollection or Feature")


def _bad_number(props: Any) -> str | None:
    if not isinstance(props, dict):
        return None
    for key, value in props.items():
        if type(value) is float and not math.isfinite(value):
            return str(key)
    return None


def check_document(doc: Any, path: Path, *, expect_geometry: bool) -> GeoJsonCheck:
    """Every feature checked; each failing one reported once with its 0-based index."""
    result = check_features(features_of(doc, path), expect_geometry=expect_geometry)
    result.legacy_crs = legacy_crs_name(doc, path)
    return result


def check_features(features: list[Any], *, expect_geometry: bool) -> GeoJsonCheck:
    """Every feature of a list checked; each failing one reported once with its position.
    (A chunk of plain 2-D features parsed by orjson does not come here: `geojson_features.
    plain` takes it in one pass.)"""
    result = GeoJsonCheck(feature_count=len(features))
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            result.issues.append(Issue(reason="not a Feature object", feature=i))
            continue
        problem, has_z = check_geometry(feature.get("geometry"), expect_geometry=expect_geometry)
        if problem:
            result.issues.append(Issue(reason=problem, feature=i, field=GEOMETRY))
            continue
        if has_z:
            result.z_features += 1
            result.three_d.add(i)
        bad_key = _bad_number(feature.get("properties"))
        if bad_key is not None:
            result.issues.append(
                Issue(reason="a value is NaN or infinite", feature=i, field=bad_key)
            )
    return result


def check_text(
    data: bytes, path: Path, *, encoding: str | None, expect_geometry: bool
) -> tuple[Any, GeoJsonCheck]:
    """Decode, parse strictly and check a GeoJSON file: the document and the findings."""
    text: str | None = decode_text(data, path, given=encoding)
    assert text is not None
    # GBK trail bytes can look like a backslash: scan UTF-8 only.
    if encoding is None:
        utf8, text = data.removeprefix(_UTF8_BOM), None
    else:
        utf8 = text.encode("utf-8")
    found = check_depth(utf8, path)
    doc = parse_fast(utf8, found)
    if doc is None:
        doc = parse(text if text is not None else utf8.decode("utf-8"), path)
    del utf8, text
    return doc, check_document(doc, path, expect_geometry=expect_geometry)


# --- streaming: a FeatureCollection read a chunk of features at a time -----------------------

SCAN_BLOCK = 4 * 1024 * 1024
"""Bytes scanned at a time: the scan's own arrays stay a small multiple of this."""
_OPEN_OBJECT, _CLOSE_OBJECT = ord("{"), ord("}")
_OPEN_ARRAY, _CLOSE_ARRAY = ord("["), ord("]")
_FEATURES_KEY = re.compile(rb'"features"\s*:\s*$')
_BLANK = b" \t\r\n"


def release(data: Buffer, end: int) -> None:
    """Let the pages of a mapped file before `end` go (read already): the mapping of a large
    file would otherwise stay resident as it is read."""
    if isinstance(data, mmap.mmap):
        aligned = end - end % mmap.PAGESIZE
        if aligned > 0:
            data.madvise(mmap.MADV_DONTNEED, 0, aligned)


@dataclass
class Layout:
    """Where things are in the text, found by one blockwise scan outside strings."""

    depth: int
    colons: int
    arrays: list[tuple[int, int]]
    """Byte offsets of each array opened inside the top-level object: its `[` and its `]`."""
    array_colons: list[tuple[int, int]]
    """Colons before each of those brackets."""
    starts: npt.NDArray[np.int64]
    """The `{` of every object two levels down (the features, and any object in other
    members of the top-level object)."""
    ends: npt.NDArray[np.int64]
    colons_before_start: npt.NDArray[np.int64]
    colons_before_end: npt.NDArray[np.int64]


def scan_layout(data: Buffer, base: int, path: Path) -> Layout:
    """Nesting depth, member count and the features' byte ranges, `SCAN_BLOCK` bytes at a time.

    Nesting deeper than MAX_DEPTH is refused after the scan, before any parser runs. Memory
    stays bounded: only the positions of the objects two levels down are kept.
    """
    size = len(data)
    in_string = 0
    depth = colons = deepest = 0
    arrays: list[tuple[int, int]] = []
    array_colons: list[tuple[int, int]] = []
    open_arrays: list[tuple[int, int]] = []
    starts: list[npt.NDArray[np.int64]] = []
    ends: list[npt.NDArray[np.int64]] = []
    colons_start: list[npt.NDArray[np.int64]] = []
    colons_end: list[npt.NDArray[np.int64]] = []
    for offset in range(base, size, SCAN_BLOCK):
        count = min(SCAN_BLOCK, size - offset)
        arr = np.frombuffer(data, dtype=np.uint8, count=count, offset=offset)
        events = _events(data[offset : offset + count])
        kinds = arr[events]
        is_quote = kinds == _QUOTE
        quotes = events[is_quote]
        before = np.zeros(len(quotes), dtype=np.uint8)
        inner = quotes > 0
        before[inner] = arr[quotes[inner] - 1]
        if len(quotes) and quotes[0] == 0 and offset > base:
            before[0] = data[offset - 1]
        maybe_escaped = quotes[before == _BACKSLASH]
        escaped = [
            q for q in maybe_escaped.tolist() if _backslashes_before(data, offset + q) % 2 == 1
        ]
        if escaped:
            is_quote[np.searchsorted(events, np.asarray(escaped, dtype=np.intp))] = False
        parity = (np.cumsum(is_quote, dtype=np.uint8) + in_string) & 1  # wraps: parity kept
        if len(parity):
            in_string = int(parity[-1])
        outside = (parity == 0) & ~is_quote
        kinds = kinds[outside]
        where = events[outside].astype(np.int64) + offset
        del events, is_quote, parity, outside, arr
        is_colon = kinds == _COLON
        colon_before = colons + np.cumsum(is_colon, dtype=np.int64) - is_colon
        after = depth + np.cumsum(_STEP[kinds], dtype=np.int64)
        if len(after):
            deepest = max(deepest, int(after.max()))
            depth = int(after[-1])
        colons += int(is_colon.sum())
        for i in np.flatnonzero(
            ((kinds == _OPEN_ARRAY) & (after == 2)) | ((kinds == _CLOSE_ARRAY) & (after == 1))
        ).tolist():
            if kinds[i] == _OPEN_ARRAY:
                open_arrays.append((int(where[i]), int(colon_before[i])))
            elif open_arrays:
                start, start_colons = open_arrays.pop()
                arrays.append((start, int(where[i])))
                array_colons.append((start_colons, int(colon_before[i])))
        opening = (kinds == _OPEN_OBJECT) & (after == 3)
        closing = (kinds == _CLOSE_OBJECT) & (after == 2)
        starts.append(where[opening])
        ends.append(where[closing])
        colons_start.append(colon_before[opening])
        colons_end.append(colon_before[closing])
        release(data, offset + count)
    if deepest > MAX_DEPTH:
        raise refuse(path, f"JSON nesting is {deepest} levels deep, over the limit of {MAX_DEPTH}")
    empty = np.zeros(0, dtype=np.int64)
    return Layout(
        depth=max(deepest, 0),
        colons=colons,
        arrays=arrays,
        array_colons=array_colons,
        starts=np.concatenate(starts) if starts else empty,
        ends=np.concatenate(ends) if ends else empty,
        colons_before_start=np.concatenate(colons_start) if colons_start else empty,
        colons_before_end=np.concatenate(colons_end) if colons_end else empty,
    )


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
            parsed_fast = type(features) is list and _members(features) == colons
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
    base = len(_UTF8_BOM) if data[: len(_UTF8_BOM)] == _UTF8_BOM else 0
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
    if _members(skeleton) != layout.colons - colons_in_array:
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
