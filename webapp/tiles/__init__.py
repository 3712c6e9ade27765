"""Vector tiles of the dense layers."""

from webapp.tiles.views import bp

__all__ = ["bp"]
