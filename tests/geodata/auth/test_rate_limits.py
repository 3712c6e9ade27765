"""Login limiter counts in PostgreSQL: hits add up within a window, a new window starts over,
keys count apart and can be cleared."""

from __future__ import annotations

import time

from sqlalchemy import Connection, text

from geodata.auth import rate_limits


def test_hits_add_up_within_a_window(conn: Connection) -> None:
    assert rate_limits.hits(conn, "account:a") == 0
    assert [rate_limits.increment(conn, "account:a", expiry_s=60) for _ in range(3)] == [1, 2, 3]
    assert rate_limits.increment(conn, "account:a", expiry_s=60, amount=2) == 5
    assert rate_limits.hits(conn, "account:a") == 5
    assert rate_limits.hits(conn, "account:b") == 0
    ends = rate_limits.expiry_epoch_s(conn, "account:a")
    assert ends is not None
    assert 50 < ends - time.time() <= 61


def test_an_ended_window_starts_over(conn: Connection) -> None:
    rate_limits.increment(conn, "account:c", expiry_s=60)
    rate_limits.increment(conn, "account:c", expiry_s=60)
    conn.execute(
        text(
            "UPDATE rate_limit_counts SET expires_at = clock_timestamp() - interval '1 second' "
            "WHERE key = 'account:c'"
        )
    )
    assert rate_limits.hits(conn, "account:c") == 0
    assert rate_limits.expiry_epoch_s(conn, "account:c") is None
    assert rate_limits.increment(conn, "account:c", expiry_s=60) == 1


def test_stale_windows_are_deleted_and_keys_cleared(conn: Connection) -> None:
    rate_limits.increment(conn, "account:old", expiry_s=60)
    conn.execute(
        text(
            "UPDATE rate_limit_counts SET expires_at = clock_timestamp() - interval '2 hours' "
            "WHERE key = 'account:old'"
        )
    )
    rate_limits.increment(conn, "account:d", expiry_s=60)
    keys = set(conn.execute(text("SELECT key FROM rate_limit_counts")).scalars())
    assert "account:old" not in keys
    assert rate_limits.clear(conn, "account:d") == 1
    assert rate_limits.hits(conn, "account:d") == 0
    rate_limits.increment(conn, "account:e", expiry_s=60)
    assert rate_limits.clear(conn) >= 1
    assert rate_limits.hits(conn, "account:e") == 0
