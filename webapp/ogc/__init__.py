"""OGC API - Features (Part 1: Core) under /ogc: the town's layers for QGIS, GDAL and others."""

from __future__ import annotations

from webapp.ogc.views import bp

__all__ = ["bp"]
