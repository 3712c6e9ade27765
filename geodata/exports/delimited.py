"""CSV: the geometry as WKT or as longitude and latitude columns, UTF-8 (with a BOM for Excel)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TextIO

from geodata.exports.sql_source import Shape

CHUNK = 5000


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def write_csv(
    rows: Iterable[tuple[Any, ...]],
    out: TextIO,
    *,
    shape: Shape,
    field_names: tuple[str, ...],
    on_rows: Callable[[int], None] | None = None,
    with_id: bool = True,
) -> int:
    """Write (id, geometry..., properties...) rows under one header line (`with_id` False:
    without the id, for a file to be imported back, whose rows are keyed by source_id)."""
    geometry = ["lon", "lat"] if shape is Shape.LONLAT else ["wkt"]
    writer = csv.writer(out, lineterminator="\n")
    first = 0 if with_id else 1
    writer.writerow(["id", *geometry, *field_names][first:])
    written = 0
    pending = 0
    for row in rows:
        writer.writerow([_cell(v) for v in row[first:]])
        written += 1
        pending += 1
        if pending >= CHUNK and on_rows is not None:
            on_rows(pending)
            pending = 0
    if pending and on_rows is not None:
        on_rows(pending)
    return written
