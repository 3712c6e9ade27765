"""The audit log for admins."""

from webapp.admin.views import bp

__all__ = ["bp"]
