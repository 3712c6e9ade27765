"""Bulk loading with PostgreSQL COPY, inside the caller's transaction."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from sqlalchemy import Connection

CHUNK_ROWS = 100_000


def raw(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy connection (same transaction)."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


def ewkb_hex(geoms: gpd.GeoSeries | Sequence[Any], *, srid: int = 4326) -> list[str]:
    """Hex EWKB with the SRID set: the text form PostGIS reads in COPY."""
    arr = shapely.set_srid(
        gpd.GeoSeries(geoms).values._data if isinstance(geoms, gpd.GeoSeries) else list(geoms),
        srid,
    )
    return list(shapely.to_wkb(arr, hex=True, include_srid=True))


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame) -> int:
    """COPY a DataFrame (columns named as the table's) into a table; geometry as hex EWKB text."""
    frame = pd.DataFrame(frame)
    for col in frame.columns:
        if isinstance(frame[col].dtype, gpd.array.GeometryDtype):
            frame[col] = ewkb_hex(gpd.GeoSeries(frame[col]))
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    )
    total = 0
    with raw(conn).cursor() as cur, cur.copy(stmt) as copy:
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS]
            buf = io.StringIO()
            chunk.to_csv(buf, header=False, index=False, na_rep="\\N")
            copy.write(buf.getvalue())
            total += len(chunk)
    return total


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY rows of Python values into a table; for small tables and streamed sources."""
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    n = 0
    with raw(conn).cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n
