"""The audit log: who did what to which objects and how many rows, never the values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnExpressionArgument,
    Connection,
    DateTime,
    Integer,
    Select,
    String,
    Text,
    column,
    func,
    literal,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by

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


def listed(
    conn: Connection,
    query: Select[*tuple[Any, ...]],
    *,
    order_by: Sequence[ColumnExpressionArgument[Any]],
    id_column: str,
    actor: str,
    action: str,
    object_type: str,
) -> list[dict[str, Any]]:
    """The rows of `query` in the order `order_by` (which must order them fully; a LIMIT of
    the query keeps the first), with the audit event that lists them written by the same
    statement: the ids of the rows in their order and their count, as `record` writes them
    (none: NULL). One round trip instead of two, and the ids are not sent back."""
    found = (
        query.add_columns(func.row_number().over(order_by=order_by).label("audit_position"))
        .order_by(*order_by)
        .cte("audited_rows")
    )
    event = EVENTS.insert().from_select(
        ["actor", "action", "object_type", "object_ids", "row_count", "detail"],
        select(
            literal(actor, Text),
            literal(action, String),
            literal(object_type, String),
            func.array_agg(aggregate_order_by(found.c[id_column], found.c.audit_position)),
            func.count(),
            literal(None, JSONB),  # JSON null, as `record` writes no detail
        ).select_from(found),
    )
    names = [str(c.name) for c in query.selected_columns]  # plain str keys, as a mapping's
    statement = (
        select(*(found.c[name] for name in names))
        .add_cte(event.cte("audit_event"))
        .order_by(found.c.audit_position)
    )
    return [dict(zip(names, r, strict=True)) for r in conn.execute(statement)]


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
