"""Helpers of the sample town's tests: one value or one column of a query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text


def scalar(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).scalar_one()


def column(conn: Connection, sql: str) -> list[Any]:
    return list(conn.execute(text(sql)).scalars())
