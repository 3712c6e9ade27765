"""Isolation beds over HTTP: the proposal of who goes to which bed, applying it, and the
beds free per site now or at a past moment."""

from webapp.isolation.views import bp

__all__ = ["bp"]
