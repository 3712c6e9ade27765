"""Uploads imported all or nothing."""

from webapp.imports.views import bp

__all__ = ["bp"]
