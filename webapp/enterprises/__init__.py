"""Enterprises resuming work, their reviews and passes, risk areas and publicity points over
HTTP."""

from webapp.enterprises.views import bp

__all__ = ["bp"]
