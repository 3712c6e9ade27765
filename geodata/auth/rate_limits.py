"""Rate-limit counts in PostgreSQL: one row per key and fixed window, counted by an atomic upsert
so that every process serving the app shares the same allowance."""

from __future__ import annotations

from sqlalchemy import Connection, text

_INCREMENT = text(
    "INSERT INTO rate_limit_counts AS c (key, hits, expires_at) "
    "VALUES (:key, :amount, clock_timestamp() + make_interval(secs => :expiry_s)) "
    "ON CONFLICT (key) DO UPDATE SET "
    "hits = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.hits "
    "ELSE c.hits + EXCLUDED.hits END, "
    "expires_at = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.expires_at "
    "ELSE c.expires_at END "
    "RETURNING hits"
)

STALE_AFTER_S = 3600
"""Windows that ended this long ago are deleted when a key is counted (logins are rare: the
delete walks the expiry index only)."""


def increment(conn: Connection, key: str, *, expiry_s: int, amount: int = 1) -> int:
    """Count `amount` hits against `key`; a window ended starts a new one of `expiry_s` seconds.
    Returns the hits of the current window, this one included."""
    conn.execute(
        text(
            "DELETE FROM rate_limit_counts "
            "WHERE expires_at < clock_timestamp() - make_interval(secs => :stale)"
        ),
        {"stale": STALE_AFTER_S},
    )
    hits = conn.execute(_INCREMENT, {"key": key, "amount": amount, "expiry_s": expiry_s})
    return int(hits.scalar_one())


def hits(conn: Connection, key: str) -> int:
    """The hits of `key` in its current window (0 when its window has ended)."""
    found = conn.execute(
        text(
            "SELECT hits FROM rate_limit_counts WHERE key = :key AND expires_at > clock_timestamp()"
        ),
        {"key": key},
    ).scalar_one_or_none()
    return int(found) if found is not None else 0


def expiry_epoch_s(conn: Connection, key: str) -> float | None:
    """When the current window of `key` ends (seconds since the epoch), or None."""
    found = conn.execute(
        text(
            "SELECT extract(epoch FROM expires_at) FROM rate_limit_counts "
            "WHERE key = :key AND expires_at > clock_timestamp()"
        ),
        {"key": key},
    ).scalar_one_or_none()
    return float(found) if found is not None else None


def clear(conn: Connection, key: str | None = None) -> int:
    """Forget the counts of `key`, or of every key; returns how many rows went."""
    if key is None:
        return conn.execute(text("DELETE FROM rate_limit_counts")).rowcount
    return conn.execute(
        text("DELETE FROM rate_limit_counts WHERE key = :key"), {"key": key}
    ).rowcount
