"""`/api/v1/daily/...` and the commanders' pages of the daily rhythm."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("daily", __name__)
