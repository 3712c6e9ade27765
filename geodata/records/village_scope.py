"""Rows within a principal's villages: the SQL condition every village-scoped reading shares.

`:villages` is the village ids as a bigint array, or NULL for the whole town.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

IN_VILLAGES = "(CAST(:villages AS bigint[]) IS NULL OR {village} = ANY(:villages))"
"""Formatted with the column holding the row's village id."""


def count_in_villages(
    conn: Connection, rows_sql: str, village: str, villages: list[int] | None, **params: Any
) -> int:
    """`SELECT count(*) {rows_sql}` (a FROM and a WHERE) kept to rows whose `village` column
    is in `villages` (None: every village)."""
    sql = f"SELECT count(*) {rows_sql} AND {IN_VILLAGES.format(village=village)}"
    return int(conn.execute(text(sql), {"villages": villages, **params}).scalar_one())
