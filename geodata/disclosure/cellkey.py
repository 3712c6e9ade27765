"""Deterministic random rounding to base 5, keyed per published cell, day and figure.

A count n = 5q + r is published as 5q + 5 with probability r / 5 and as 5q otherwise, so
the published figure is unbiased. The draw is not random at all: it is the HMAC of the
cell, the day and the figure under a secret kept in the database, so asking again gives
the same answer and teaches nothing, and two cells, days or figures draw independently,
so the difference of two published results says nothing about one person.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from sqlalchemy import Connection, text

from geodata.disclosure.rules import ROUNDING_BASE, SUPPRESS_BELOW

_SCALE = float(2**64)


def load_secret(conn: Connection) -> bytes:
    """The database's perturbation secret (made once by migration 0009)."""
    return bytes.fromhex(
        str(conn.execute(text("SELECT secret FROM disclosure_secret")).scalar_one())
    )


class CellKeys:
    """The draw in [0, 1) of each (cell, day, figure) under one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self.fingerprint = hashlib.sha256(b"wangge cell keys\x1f" + secret).digest()
        """Which secret this is, without the secret: equal for equal secrets."""

    def draw(self, cell: str, day: date, figure: str) -> float:
        message = f"{cell}\x1f{day.isoformat()}\x1f{figure}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") / _SCALE

    def __repr__(self) -> str:
        return "CellKeys(<secret hidden>)"


def random_round(count: int, draw: float) -> int:
    """`count` rounded down or up to a multiple of ROUNDING_BASE by the draw (unbiased)."""
    quotient, remainder = divmod(int(count), ROUNDING_BASE)
    up = remainder > 0 and draw >= 1.0 - remainder / ROUNDING_BASE
    return (quotient + int(up)) * ROUNDING_BASE


def published(count: int | None, draw: float) -> int | None:
    """A count as published: None under SUPPRESS_BELOW, else randomly rounded (never < 5)."""
    if count is None or count < SUPPRESS_BELOW:
        return None
    return max(random_round(count, draw), ROUNDING_BASE)
