"""Screening campaigns (排查): create them, list them, their progress per grid."""

from webapp.campaigns.views import bp

__all__ = ["bp"]
