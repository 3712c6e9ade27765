"""The daily rhythm over HTTP: 16:00 unit reports, the 18:00 summary, 19:00 task lists."""

from webapp.daily.views import bp

__all__ = ["bp"]
