"""The coverage report as JSON."""

from webapp.coverage.views import bp

__all__ = ["bp"]
