"""The grid worker's field app at /field/: an installable, offline-first web app."""

from webapp.field.views import bp

__all__ = ["bp"]
