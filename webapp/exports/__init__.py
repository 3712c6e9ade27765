"""Downloads of exports, and the OGC API they share their sources with."""

from webapp.exports.views import bp

__all__ = ["bp"]
