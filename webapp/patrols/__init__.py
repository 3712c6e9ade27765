"""The planner's patrol zones page and its API."""

from webapp.patrols.views import bp

__all__ = ["bp"]
