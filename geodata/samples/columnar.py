"""Tables held as numpy columns, written with COPY in PostgreSQL's text format."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection

from geodata.db.bulk import raw
from geodata.models import SRID

NULL = "\\N"
UTC_OFFSET = "+08"
"""Timestamps are generated as wall-clock time in China (UTC+8)."""

CHUNK_ROWS = 50_000
STATEMENT_ROWS = 500_000


@dataclass(frozen=True)
class Table:
    """The rows of one table as equal-length columns.

    Ids are local (1, 2, ... in the column ``id``) until the rows are written:
    ``refs`` names, for each foreign-key column, the table whose local ids it
    holds, and ``source_kind`` (when set) gives each row the source id
    ``<prefix><source_kind>/<local id>``. A masked array is a nullable column;
    text values must not contain a tab, a newline or a backslash.
    """

    name: str
    columns: dict[str, NDArray[Any]]
    refs: dict[str, str] = field(default_factory=dict)
    source_kind: str | None = None

    def __len__(self) -> int:
        return len(self.columns["id"])

    def column_names(self) -> list[str]:
        names = list(self.columns)
        if self.source_kind is not None:
            names.append("source_id")
        return names


def local_ids(n: int) -> NDArray[np.int64]:
    """Local ids 1..n."""
    return np.arange(1, n + 1, dtype=np.int64)


def nullable(values: NDArray[Any], null: NDArray[np.bool_]) -> NDArray[Any]:
    """A column whose rows are NULL where ``null`` is true."""
    return np.ma.masked_array(values, mask=null)


def _text(values: NDArray[Any]) -> list[str]:
    """One column as the text COPY reads, NULL as \\N."""
    mask = np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) else None
    data = np.ma.getdata(values)
    kind = data.dtype.kind
    if kind == "b":
        out: list[str] = np.where(data, "t", "f").tolist()
    elif kind in "iu":
        out = list(map(str, data.tolist()))
    elif kind == "f":
        out = list(map(repr, data.tolist()))
    elif kind == "M":
        unit = np.datetime_data(data.dtype)[0]
        if unit == "D":
            out = data.astype(np.dtypes.StringDType()).tolist()
        else:
            stamps = data.astype("datetime64[s]").astype(np.dtypes.StringDType())
            out = np.strings.add(stamps, UTC_OFFSET).tolist()
    elif kind == "O" and len(data) and isinstance(data[0], shapely.Geometry):
        out = shapely.to_wkb(shapely.set_srid(data, SRID), hex=True, include_srid=True).tolist()
    else:
        out = [NULL if v is None else v for v in data.tolist()] if kind == "O" else data.tolist()
    if mask is not None and mask.any():
        for i in np.flatnonzero(mask).tolist():
            out[i] = NULL
    return out


def rows_text(
    table: Table, start: int, stop: int, *, offsets: Mapping[str, int], source_prefix: str
) -> str:
    """Rows start..stop of a table as COPY text, local ids shifted by each table's offset."""
    columns: list[list[str]] = []
    ids = table.columns["id"][start:stop]
    for name, values in table.columns.items():
        part = values[start:stop]
        if name == "id":
            part = part + offsets[table.name]
        elif name in table.refs:
            part = part + offsets[table.refs[name]]
        columns.append(_text(part))
    if table.source_kind is not None:
        prefix = f"{source_prefix}{table.source_kind}/"
        columns.append([prefix + s for s in map(str, ids.tolist())])
    return "".join(line + "\n" for line in map("\t".join, zip(*columns, strict=True)))


def copy_table(
    conn: Connection,
    table: Table,
    *,
    offsets: Mapping[str, int],
    source_prefix: str,
    on_rows: Callable[[int], object] | None = None,
) -> int:
    """COPY a table's rows; ``on_rows`` hears of each chunk of rows sent.

    Text is formatted CHUNK_ROWS rows at a time while a worker thread sends the
    previous chunk; a new COPY starts every STATEMENT_ROWS rows so that the
    foreign-key checks queued until the end of each statement stay few.
    """
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name),
        sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names()),
    )
    n = len(table)
    with raw(conn).cursor() as cur:
        for first in range(0, n, STATEMENT_ROWS):
            last = min(first + STATEMENT_ROWS, n)
            with cur.copy(stmt, writer=QueuedLibpqWriter(cur)) as copy:
                for start in range(first, last, CHUNK_ROWS):
                    stop = min(start + CHUNK_ROWS, last)
                    text = rows_text(
                        table, start, stop, offsets=offsets, source_prefix=source_prefix
                    )
                    copy.write(text.encode())
                    if on_rows is not None:
                        on_rows(stop - start)
    return n
