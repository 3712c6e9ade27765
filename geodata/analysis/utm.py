"""The UTM zone of a place: plain arithmetic, so that whoever needs only the zone (the OGC
CRS list, an export) loads none of the coverage model's libraries."""

from __future__ import annotations


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 UTM zone holding (lon, lat): 326xx north, 327xx south."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"not a longitude/latitude: {lon}, {lat}")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone
