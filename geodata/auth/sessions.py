"""Server-side browser sessions: stored by the hash of their id, revocable, with idle timeout."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from geodata.auth.accounts import digest
from geodata.models import Base

S = Base.metadata.tables["web_sessions"]
U = Base.metadata.tables["users"]

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)


@dataclass
class StoredSession:
    sid: str
    user_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    last_seen_at: datetime | None = None


TOUCH_INTERVAL = timedelta(minutes=1)
"""A session's idle clock is moved at most this often (a write per request is wasted work)."""


def needs_touch(session: StoredSession, *, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return session.last_seen_at is None or now - session.last_seen_at >= TOUCH_INTERVAL


def new_sid() -> str:
    return secrets.token_urlsafe(32)


def load(conn: Connection, sid: str, *, now: datetime | None = None) -> StoredSession | None:
    """The live session with this id, or None (unknown, revoked, idle or too old, user off)."""
    now = now or datetime.now(UTC)
    row = conn.execute(
        select(S.c.user_id, S.c.data, S.c.created_at, S.c.last_seen_at, S.c.revoked_at, U.c.active)
        .outerjoin(U, U.c.id == S.c.user_id)
        .where(S.c.sid_hash == digest(sid))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    if now - row.last_seen_at > IDLE_TIMEOUT or now - row.created_at > ABSOLUTE_TIMEOUT:
        return None
    if row.user_id is not None and not row.active:
        return None
    return StoredSession(
        sid=sid, user_id=row.user_id, data=dict(row.data or {}), last_seen_at=row.last_seen_at
    )


def save(conn: Connection, session: StoredSession) -> None:
    """Insert or update a session and mark it seen now."""
    h = digest(session.sid)
    now = datetime.now(UTC)
    updated = conn.execute(
        update(S)
        .where(S.c.sid_hash == h, S.c.revoked_at.is_(None))
        .values(data=session.data, user_id=session.user_id, last_seen_at=now)
    ).rowcount
    if not updated:
        conn.execute(
            insert(S).values(
                sid_hash=h,
                user_id=session.user_id,
                data=session.data,
                created_at=now,
                last_seen_at=now,
            )
        )


def revoke(conn: Connection, sid: str) -> None:
    conn.execute(update(S).where(S.c.sid_hash == digest(sid)).values(revoked_at=datetime.now(UTC)))


def delete_expired(conn: Connection, *, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    return int(
        conn.execute(
            delete(S).where((S.c.last_seen_at < now - IDLE_TIMEOUT) | (S.c.revoked_at.is_not(None)))
        ).rowcount
    )
