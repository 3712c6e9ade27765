"""Privacy levels of an export, who may ask for each, and the keyed pseudonyms.

The pseudonym key is read from WANGGE_EXPORT_KEY or from `export.key` in WANGGE_HOME,
created there (mode 0600) on first use. It is used only in this process: never sent to the
database, never written to an export, a log or the audit trail.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from geodata.auth.access import Action, Principal
from geodata.errors import WanggeError

KEY_ENV = "WANGGE_EXPORT_KEY"
KEY_FILE = "export.key"
DEFAULT_HEX_RESOLUTION = 9
"""H3 resolution of hexagon aggregates: about 0.1 km² a cell, a few blocks of a town."""
PSEUDONYM_HEX_DIGITS = 20
"""80 bits of HMAC-SHA-256: no collision among billions of ids, and short in a table."""


class PrivacyLevel(enum.StrEnum):
    AGGREGATE = "aggregate"
    PSEUDONYMOUS = "pseudonymous"
    FULL = "full"


class AggregateLevel(enum.StrEnum):
    GRID = "grid"
    VILLAGE = "village"
    HEX = "hex"


REQUIRED_ACTION: dict[PrivacyLevel, Action] = {
    PrivacyLevel.AGGREGATE: Action.EXPORT_AGGREGATE,
    PrivacyLevel.PSEUDONYMOUS: Action.EXPORT_PSEUDONYMOUS,
    PrivacyLevel.FULL: Action.EXPORT_PERSONAL,
}


def require_level(principal: Principal, level: PrivacyLevel) -> None:
    """Refuse (ForbiddenError) a principal whose role may not export at this level."""
    principal.require(REQUIRED_ACTION[level])


class PseudonymKeyError(WanggeError):
    """The pseudonym key is missing, too short or readable by others."""


def load_key(home: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """The server's pseudonym key: from the environment, else the key file (made once)."""
    env = os.environ if environ is None else environ
    given = env.get(KEY_ENV)
    if given:
        key = given.encode()
        if len(key) < 32:
            raise PseudonymKeyError(f"{KEY_ENV} must be at least 32 characters")
        return key
    path = home / KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made meanwhile by another process
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PseudonymKeyError(f"{path} is readable by others (mode {mode:o}): chmod 600 it")
    key = path.read_text().strip().encode()
    if len(key) < 32:
        raise PseudonymKeyError(f"{path} holds too short a key")
    return key


class Pseudonyms:
    """Keyed pseudonyms: the same id gives the same pseudonym within one key, and nothing
    short of the key turns a pseudonym back into an id (unlike an unkeyed hash of an id)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, kind: str, value: object) -> str | None:
        if value is None:
            return None
        mac = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:PSEUDONYM_HEX_DIGITS]

    def __repr__(self) -> str:
        return "Pseudonyms(<key hidden>)"


class RowView(enum.StrEnum):
    """How the rows of a personal layer are shown, one row per person or household."""

    FULL = "full"
    PSEUDONYMOUS = "pseudonymous"
    """Ids replaced by keyed pseudonyms; names, ID numbers, phones and source ids dropped."""
    REDACTED = "redacted"
    """Real ids (for those whose grid it is), but no names, ID numbers, phones or source ids."""
