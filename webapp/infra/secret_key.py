"""The key that signs CSRF tokens: WANGGE_SECRET_KEY, else one kept in WANGGE_HOME."""

from __future__ import annotations

import os
import secrets

from geodata.settings import Settings


def secret_key(settings: Settings) -> str:
    """Stable across restarts, so forms open before a restart still submit after it."""
    given = os.environ.get("WANGGE_SECRET_KEY")
    if given:
        return given
    path = settings.home / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
