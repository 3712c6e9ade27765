"""Coordinate reference systems features can be given in, besides WGS84 longitude and
latitude: an SRID and an axis order, with coordinates moved by PostGIS (ST_Transform, then
ST_FlipCoordinates for latitude first); and a box given in one of them, as longitudes and
latitudes for the filters."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geodata.analysis.utm import utm_epsg

WGS84 = 4326
WEB_MERCATOR = 3857


@dataclass(frozen=True)
class OutputCrs:
    """Where coordinates are written: the SRID, whether latitude comes first, and how many
    decimals are kept (seven of a degree are about 1 cm; two of a metre, 1 cm)."""

    srid: int = WGS84
    lat_lon: bool = False
    decimals: int = 7

    @property
    def is_lon_lat(self) -> bool:
        """Whether this is the stored WGS84 longitude/latitude (nothing to move)."""
        return self.srid == WGS84 and not self.lat_lon

    def place(self, geom: str) -> str:
        """SQL of `geom` (WGS84) in this CRS, before any flip of the axes."""
        return geom if self.srid == WGS84 else f"ST_Transform({geom}, {int(self.srid)})"

    def order(self, geom: str) -> str:
        """SQL of `geom` (already in this CRS) with its axes in this CRS's order."""
        return f"ST_FlipCoordinates({geom})" if self.lat_lon else geom


LON_LAT = OutputCrs()
"""WGS84, longitude first: RFC 7946 GeoJSON, OGC CRS84, what the tables hold."""


def in_metres(srid: int) -> OutputCrs:
    """A projected CRS whose units are metres, east first."""
    return OutputCrs(srid=srid, decimals=2)


def town_utm_srid(conn: Connection) -> int:
    """The EPSG code of the UTM zone of the town: that of the centre of its villages' extent
    (of its grids' when it has no village), as the coverage report measures in."""
    row = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ("
            " SELECT coalesce((SELECT ST_Extent(geom) FROM villages),"
            "                 (SELECT ST_Extent(geom) FROM grids)) AS e) AS extent"
        )
    ).one()
    if row[0] is None:
        return utm_epsg(0.0, 0.0)
    return utm_epsg((float(row[0]) + float(row[2])) / 2, (float(row[1]) + float(row[3])) / 2)


class BoxError(ValueError):
    """A box that does not stand for a place on Earth in its CRS."""


def box_in_lon_lat(
    conn: Connection, box: tuple[float, float, float, float], srid: int
) -> tuple[float, float, float, float]:
    """West, south, east, north in WGS84 degrees of the box (minX, minY, maxX, maxY, east
    first) given in `srid` (a CRS in metres): its outline, each edge cut in 64, moved by
    PostGIS, then the extent of that. Exact for Web Mercator, whose edges are meridians and
    parallels; in UTM a sliver wider, since there they are not.

    Run it on a connection of its own: a box PROJ cannot move is an error of the database.
    """
    if srid == WGS84:
        return box
    w, s, e, n = box
    if not (w <= e and s <= n):
        raise BoxError("bbox: the minimum is larger than the maximum")
    row = conn.execute(
        text(
            "SELECT ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) FROM ST_Transform("
            " ST_Segmentize(ST_MakeEnvelope(:w, :s, :e, :n, :srid),"
            "               greatest(:e - :w, :n - :s, 1.0) / 64), 4326) AS g"
        ),
        {"w": w, "s": s, "e": e, "n": n, "srid": srid},
    ).one()
    found = tuple(float(v) for v in row)
    if not all(math.isfinite(v) for v in found):
        raise BoxError("bbox: not a place on Earth in bbox-crs")
    west, south, east, north = found
    return (max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0))
