"""Households and residents of the caller's grids, masked; audited reveal."""

from webapp.households.views import bp

__all__ = ["bp"]
