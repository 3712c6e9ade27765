"""Where a record of the command post stands: a point from lon/lat or a geometry from WKT,
of the kinds the record allows, inside the town's extent, and its village (named, else the
one containing it)."""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from geodata.records.refusal import RecordRefused

EXTENT_MARGIN_M = 5000.0
"""A record farther than this from every village is outside the town."""


@dataclass(frozen=True, kw_only=True)
class Where:
    """The position as given: lon and lat together, or a WKT text, and the village."""

    lon: float | None = None
    lat: float | None = None
    wkt: str | None = None
    village: str | None = None


def _shape(record: str, where: Where) -> BaseGeometry:
    if where.wkt and (where.lon is not None or where.lat is not None):
        raise RecordRefused(f"{record}: wkt: give either wkt or lon and lat")
    if where.wkt:
        try:
            shape = shapely.from_wkt(where.wkt)
        except shapely.errors.GEOSException:
            raise RecordRefused(f"{record}: wkt: not a WKT geometry") from None
    elif where.lon is not None and where.lat is not None:
        shape = shapely.Point(where.lon, where.lat)
    elif where.lon is None and where.lat is None:
        raise RecordRefused(f"{record}: lon: a position is required (lon and lat, or wkt)")
    else:
        raise RecordRefused(f"{record}: lat: give lon and lat together")
    shape = shapely.force_2d(shape)  # the tables hold 2D geometries
    if shape.is_empty:
        raise RecordRefused(f"{record}: wkt: empty geometry")
    west, south, east, north = shape.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise RecordRefused(f"{record}: lon: outside WGS84 longitude/latitude ranges")
    if not shape.is_valid:
        raise RecordRefused(
            f"{record}: wkt: not a valid geometry ({shapely.is_valid_reason(shape)})"
        )
    return shape


def locate(
    conn: Connection, record: str, where: Where, *, kinds: tuple[str, ...]
) -> tuple[str, int]:
    """The EWKT (SRID 4326) and the village id of a position; refused when malformed, of
    another kind, outside the town's extent, or with an unknown village."""
    shape = _shape(record, where)
    if shape.geom_type not in kinds:
        raise RecordRefused(f"{record}: wkt: a {shape.geom_type}: one of {', '.join(kinds)}")
    ewkt = f"SRID=4326;{shape.wkt}"
    row = conn.execute(
        text(
            "SELECT (SELECT id FROM villages WHERE code = :v OR source_id = :v"
            " ORDER BY id LIMIT 1) AS named,"
            " (SELECT v.id FROM villages AS v WHERE ST_Intersects(v.geom, ST_PointOnSurface(s.g))"
            " ORDER BY v.id LIMIT 1) AS containing,"
            " EXISTS (SELECT 1 FROM villages AS v"
            " WHERE ST_DWithin(v.geom::geography, s.g::geography, :margin)) AS near"
            " FROM (SELECT ST_GeomFromEWKT(:g) AS g) AS s"
        ),
        {"v": where.village, "g": ewkt, "margin": EXTENT_MARGIN_M},
    ).one()
    if not row.near:
        raise RecordRefused(
            f"{record}: geometry: outside the town's extent (more than"
            f" {EXTENT_MARGIN_M / 1000:g} km from every village)"
        )
    if where.village:
        if row.named is None:
            raise RecordRefused(f"{record}: village: {where.village!r}: no such village")
        return ewkt, int(row.named)
    if row.containing is None:
        raise RecordRefused(f"{record}: village: no village contains it: give the village")
    return ewkt, int(row.containing)
