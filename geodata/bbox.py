"""A bounding box in WGS84 longitude and latitude, and the `bbox` query parameter that gives one."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BBox:
    """West, south, east and north edges in degrees (EPSG:4326), west <= east, south <= north."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def as_leaflet_bounds(self) -> list[list[float]]:
        """[[south, west], [north, east]]: Leaflet's order, latitude first."""
        return [[self.min_lat, self.min_lon], [self.max_lat, self.max_lon]]


class BBoxError(ValueError):
    """A `bbox` parameter that is not four finite numbers inside the WGS84 ranges."""


def parse_bbox(value: str) -> BBox:
    """Parse `minLon,minLat,maxLon,maxLat` (the RFC 7946 / OGC API order).

    Ranges are checked here because float() accepts `nan`, `inf` and `1e400`; a box that
    crosses the antimeridian (west > east) is refused rather than guessed at.
    """
    parts = value.split(",")
    if len(parts) != 4:
        raise BBoxError("bbox must be four comma-separated numbers: minLon,minLat,maxLon,maxLat")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in parts)
    except ValueError:
        raise BBoxError("bbox must be four comma-separated numbers") from None
    if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
        raise BBoxError("bbox numbers must be finite")
    if not (-180.0 <= min_lon <= max_lon <= 180.0):
        raise BBoxError("bbox longitudes must satisfy -180 <= minLon <= maxLon <= 180")
    if not (-90.0 <= min_lat <= max_lat <= 90.0):
        raise BBoxError("bbox latitudes must satisfy -90 <= minLat <= maxLat <= 90")
    return BBox(min_lon, min_lat, max_lon, max_lat)
