"""Quarantines over HTTP: register, list, the checks due, record a check (idempotent),
release, extend; fever alerts."""

from webapp.quarantines.views import bp

__all__ = ["bp"]
