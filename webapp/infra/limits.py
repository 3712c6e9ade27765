"""Rate limits (Flask-Limiter): login attempts per IP and per account."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", default_limits=[])

LOGIN_PER_IP = "20 per minute"
LOGIN_PER_ACCOUNT = "5 per minute"


def account_key() -> str:
    """Attempts against one account count together, from whatever address."""
    return "account:" + (request.form.get("username") or "").strip().lower()
