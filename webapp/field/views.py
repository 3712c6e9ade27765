"""The field app's pages and its manifest and service worker."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("field", __name__)
