"""The audit log: who did what to which objects and how many rows, never the values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, DateTime, Integer, String, Text, column, table
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

EVENTS = table(
    "audit_events",
    column("id", BigInteger),
    column("at", DateTime(timezone=True)),
    column("actor", Text),
    column("action", String),
    column("object_type", String),
    column("object_ids", ARRAY(BigInteger)),
    column("row_count", Integer),
    column("detail", JSONB),
)
"""The columns of `geodata.models.AuditEvent` (a test holds them alike), named here so that
writing an event loads no ORM model: every command writes one."""

FORBIDDEN_DETAIL_KEYS = frozenset({"name", "id_number", "phone", "value", "password", "token"})


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    object_type: str | None = None,
    object_ids: Sequence[int] = (),
    row_count: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one audit event in the caller's transaction."""
    if detail and FORBIDDEN_DETAIL_KEYS & set(detail):
        raise ValueError(
            f"audit detail may not carry {sorted(FORBIDDEN_DETAIL_KEYS & set(detail))}"
        )
    conn.execute(
        EVENTS.insert().values(
            actor=actor,
            action=action,
            object_type=object_type,
            object_ids=list(object_ids) or None,
            row_count=row_count,
            detail=detail,
        )
    )


def events_since(conn: Connection, since: datetime, *, limit: int = 10_000) -> list[dict[str, Any]]:
    rows = conn.execute(
        EVENTS.select().where(EVENTS.c.at >= since).order_by(EVENTS.c.id).limit(limit)
    ).mappings()
    return [
        {
            "id": e["id"],
            "at": e["at"].isoformat(),
            "actor": e["actor"],
            "action": e["action"],
            "object_type": e["object_type"],
            "object_ids": e["object_ids"] or [],
            "row_count": e["row_count"],
            "detail": e["detail"] or {},
        }
        for e in rows
    ]
