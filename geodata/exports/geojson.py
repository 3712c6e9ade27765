"""One RFC 7946 FeatureCollection, written feature by feature as the features stream in.

WGS84 longitude/latitude, no `crs` member, exterior rings counterclockwise and holes
clockwise (ST_ForcePolygonCCW), seven decimals, UTF-8 with Chinese text as text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, BinaryIO

import orjson

CHUNK = 2000
HEAD = b'{"type":"FeatureCollection","features":[\n'
TAIL = b"\n]}\n"


def write_feature_collection(
    features: Iterable[str],
    out: BinaryIO,
    *,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Write the features as one FeatureCollection; return how many were written."""
    out.write(HEAD)
    written = 0
    chunk: list[str] = []
    for feature in features:
        chunk.append(feature)
        if len(chunk) >= CHUNK:
            written = _flush(out, chunk, written, on_rows)
            chunk = []
    written = _flush(out, chunk, written, on_rows)
    out.write(TAIL)
    return written


def _flush(
    out: BinaryIO, chunk: list[str], written: int, on_rows: Callable[[int], None] | None
) -> int:
    if not chunk:
        return written
    if written:
        out.write(b",\n")
    out.write(",\n".join(chunk).encode())
    if on_rows is not None:
        on_rows(len(chunk))
    return written + len(chunk)


def feature_text(
    fid: object,
    geometry: str,
    names: Sequence[str],
    values: Sequence[Any],
    *,
    default: Callable[[Any], Any] | None = None,
) -> str:
    """One Feature from its id, its geometry's GeoJSON text and its property values."""
    properties = orjson.dumps(dict(zip(names, values, strict=True)), default=default).decode()
    return (
        f'{{"type":"Feature","id":{orjson.dumps(fid).decode()},'
        f'"geometry":{geometry},"properties":{properties}}}'
    )
