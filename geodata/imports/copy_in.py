"""COPY a validated frame into a table in chunks, the next chunk built while one is sent."""

from __future__ import annotations

import math
from collections.abc import Iterable
from contextlib import ExitStack, suppress
from typing import Any

import numpy as np
import pandas as pd
import shapely
from psycopg import sql
from psycopg.copy import Copy, QueuedLibpqWriter
from sqlalchemy import Connection

from geodata.db.bulk import raw

CHUNK_ROWS = 10_000
SRID = 4326
NULL = "\\N"
_SPECIAL = ("\\", "\t", "\n", "\r")
_EWKB_SRID = b"\x20" + SRID.to_bytes(4, "little")
"""The SRID flag (high byte of the type) and the SRID, for little-endian 2-D WKB."""


def _hex_ewkb(values: pd.Series) -> list[str]:
    """Hex EWKB with SRID 4326 of 2-D geometries (`\\N` for a missing one).

    WKB as GEOS writes it (little-endian, 2-D) gets the SRID flag and the SRID spliced into
    its header: no copy of any geometry is made (and bytes.hex beats GEOS's hex writer).
    """
    geoms = np.asarray(values, dtype=object)
    wkb = shapely.to_wkb(geoms, byte_order=1, output_dimension=2)
    return [NULL if b is None else (b[:4] + _EWKB_SRID + b[5:]).hex() for b in wkb.tolist()]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _value(v: Any) -> str:
    if v is None or v is pd.NA or v is pd.NaT:
        return NULL
    if isinstance(v, bool | np.bool_):
        return "t" if v else "f"
    if isinstance(v, float | np.floating):
        return NULL if math.isnan(v) else repr(float(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    return _escape(str(v))


def _text_column(values: pd.Series) -> list[str]:
    """One column in COPY's text format: `\\N` for missing values, special characters escaped."""
    if isinstance(values.dtype, pd.Int64Dtype) or values.dtype.kind in "iu":
        missing = values.isna().to_numpy()
        numbers = values.to_numpy(dtype=np.int64, na_value=0).astype(str).astype(object)
        numbers[missing] = NULL
        return list(numbers.tolist())
    items = values.tolist()
    if all(type(v) is str or v is None for v in items):
        joined = "".join(v for v in items if v is not None)
        if not any(c in joined for c in _SPECIAL):
            return [NULL if v is None else v for v in items]
    return [_value(v) for v in items]


def _text(frame: pd.DataFrame, geometry: set[str]) -> str:
    columns = [
        _hex_ewkb(frame[c]) if c in geometry else _text_column(frame[c]) for c in frame.columns
    ]
    if not len(frame):
        return ""
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


class CopyStream:
    """One COPY into a table kept open while chunks of rows are written, so the database
    works on one chunk while the next is read and checked. `close` ends it (the connection
    is free for other statements after); the next `write` starts another."""

    def __init__(
        self,
        conn: Connection,
        table: str,
        columns: list[str],
        *,
        geometry_columns: Iterable[str] = ("geom",),
    ) -> None:
        self.conn = conn
        self.columns = columns
        self.geometry = {c for c in geometry_columns if c in columns}
        self.statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        self._open: ExitStack | None = None
        self._copy: Copy | None = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        """Send the rows of `frame` (its columns, in `columns` order)."""
        if self._copy is None:
            stack = ExitStack()
            cur = stack.enter_context(raw(self.conn).cursor())
            self._copy = stack.enter_context(
                cur.copy(self.statement, writer=QueuedLibpqWriter(cur))
            )
            self._open = stack
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS]
            self._copy.write(_text(chunk[self.columns], self.geometry))
            self.rows += len(chunk)

    def close(self) -> None:
        """End the COPY (waits for the database to take every row)."""
        stack, self._open, self._copy = self._open, None, None
        if stack is not None:
            stack.close()

    def abort(self) -> None:
        """End the COPY as failed (on an error raised while it was open)."""
        stack, self._open, self._copy = self._open, None, None
        if stack is not None:
            with suppress(Exception):
                stack.__exit__(RuntimeError, RuntimeError("import stopped"), None)


def copy_into(
    conn: Connection,
    table: str,
    frame: pd.DataFrame,
    *,
    geometry_columns: Iterable[str] = ("geom",),
) -> int:
    """COPY `frame` (columns named as the table's) into `table`; geometries as hex EWKB.

    A writer thread sends each chunk while the next one is turned into text, so the
    database's work (indexes, constraints) overlaps the formatting here.
    """
    stream = CopyStream(conn, table, list(frame.columns), geometry_columns=geometry_columns)
    try:
        stream.write(frame)
    except BaseException:
        stream.abort()
        raise
    stream.close()
    return stream.rows
