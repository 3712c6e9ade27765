"""Supervision (督导): the commanders' and admins' page of inspections and rectification
items."""

from webapp.supervision.views import bp

__all__ = ["bp"]
