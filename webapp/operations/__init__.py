"""The command post's API: entrances, checkpoints and shifts changed by those who operate."""

from webapp.operations.views import bp

__all__ = ["bp"]
