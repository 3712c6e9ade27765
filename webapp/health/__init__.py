"""Liveness and readiness."""

from webapp.health.views import bp

__all__ = ["bp"]
