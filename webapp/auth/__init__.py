"""Login, logout and account activation."""

from webapp.auth.views import bp

__all__ = ["bp"]
