"""One linear scan of GeoJSON bytes outside strings: nesting depth, member count, and where
the arrays and objects of a mapped file begin and end."""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from geodata.imports.files import refuse

MAX_DEPTH = 64
Buffer = bytes | mmap.mmap
"""The text of a file: read into memory, or mapped."""
UTF8_BOM = b"\xef\xbb\xbf"


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


def check_depth(utf8: bytes, path: Path) -> TextScan:
    """Refuse nesting deeper than MAX_DEPTH, before any parser recurses into it."""
    found = scan(utf8)
    if found.depth > MAX_DEPTH:
        raise refuse(
            path, f"JSON nesting is {found.depth} levels deep, over the limit of {MAX_DEPTH}"
        )
    return found


# --- a mapped file, scanned a block at a time -----------------------------------------------

SCAN_BLOCK = 4 * 1024 * 1024
"""Bytes scanned at a time: the scan's own arrays stay a small multiple of this."""
_OPEN_OBJECT, _CLOSE_OBJECT = ord("{"), ord("}")
_OPEN_ARRAY, _CLOSE_ARRAY = ord("["), ord("]")


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
