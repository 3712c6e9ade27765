"""COPY a validated frame into a table in chunks, the next chunk built while one is sent."""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd
import shapely
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection

from geodata.bulk import raw

CHUNK_ROWS = 10_000
SRID = 4326


def _hex_ewkb(values: pd.Series) -> pd.Series:
    geoms = shapely.set_srid(np.asarray(values, dtype=object), SRID)
    return pd.Series(
        shapely.to_wkb(geoms, hex=True, include_srid=True), index=values.index, dtype=object
    )


def copy_into(
    conn: Connection,
    table: str,
    frame: pd.DataFrame,
    *,
    geometry_columns: Iterable[str] = ("geom",),
) -> int:
    """COPY `frame` (columns named as the table's) into `table`; geometries as hex EWKB.

    A writer thread sends each chunk while the next one is turned into CSV text, so the
    database's work (indexes, constraints) overlaps the formatting here.
    """
    geometry = [c for c in geometry_columns if c in frame.columns]
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    )
    total = 0
    with raw(conn).cursor() as cur, cur.copy(stmt, writer=QueuedLibpqWriter(cur)) as copy:
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS].copy()
            for column in geometry:
                chunk[column] = _hex_ewkb(chunk[column])
            buf = io.StringIO()
            chunk.to_csv(buf, header=False, index=False, na_rep="\\N")
            copy.write(buf.getvalue())
            total += len(chunk)
    return total
