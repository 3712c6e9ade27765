"""The planners' page and API."""

from webapp.plan.views import bp

__all__ = ["bp"]
