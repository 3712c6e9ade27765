"""The grid workers' visits of the day."""

from webapp.visits.views import bp

__all__ = ["bp"]
