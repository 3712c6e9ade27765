"""The commanders' map and its layers."""

from webapp.map.views import bp

__all__ = ["bp"]
