"""OGC API - Features Part 2 (CRS by reference): the CRSs features can be asked for, the
`crs` and `bbox-crs` parameters that name one, and the `Content-Crs` header.

CRS84 (WGS84 longitude, latitude) is the default and what the tables hold; EPSG:4326 is the
same datum with latitude first, as its definition orders the axes, in output and in a bbox;
EPSG:3857 (Web Mercator) and the town's UTM zone are in metres, east first.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from flask import abort, request
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from geodata.exports.crs import (
    LON_LAT,
    WEB_MERCATOR,
    WGS84,
    BoxError,
    OutputCrs,
    box_in_lon_lat,
    in_metres,
    town_utm_srid,
)
from webapp.infra import database
from webapp.ogc import query
from webapp.ogc.documents import CRS84

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
_CURIE = re.compile(r"\[?(EPSG|OGC):(\w+)\]?", re.IGNORECASE)


@dataclass(frozen=True)
class Crs:
    uri: str
    output: OutputCrs

    @property
    def header(self) -> str:
        """The `Content-Crs` header's value."""
        return f"<{self.uri}>"


DEFAULT = Crs(CRS84, LON_LAT)


def supported(conn: Connection) -> list[Crs]:
    """Every CRS this town's features can be given in, the default first."""
    utm = town_utm_srid(conn)
    return [
        DEFAULT,
        Crs(f"{EPSG}{WGS84}", OutputCrs(lat_lon=True)),
        Crs(f"{EPSG}{WEB_MERCATOR}", in_metres(WEB_MERCATOR)),
        Crs(f"{EPSG}{utm}", in_metres(utm)),
    ]


def uris(conn: Connection) -> list[str]:
    return [c.uri for c in supported(conn)]


def _uri(name: str) -> str:
    """A CRS's URI from its URI or its safe CURIE (`[EPSG:3857]`, `EPSG:3857`, `OGC:CRS84`)."""
    curie = _CURIE.fullmatch(name.strip())
    if curie is None:
        return name.strip()
    authority, code = curie.group(1).upper(), curie.group(2)
    return CRS84 if (authority, code.upper()) == ("OGC", "CRS84") else f"{EPSG}{code}"


def named(parameter: str) -> Crs:
    """The CRS named by a query parameter (the default when absent); 400 if not supported."""
    raw = request.args.get(parameter)
    if raw is None:
        return DEFAULT
    wanted = _uri(raw)
    found = [c for c in supported(database.connection()) if c.uri == wanted]
    if not found:
        abort(400, description=f"{parameter}: not a supported CRS (see the collection's crs list)")
    return found[0]


def bbox(crs: Crs) -> tuple[float, float, float, float] | None:
    """The `bbox` parameter, given in `crs`, as west, south, east, north in WGS84 degrees."""
    raw = request.args.get("bbox")
    if raw is None or crs == DEFAULT:
        return query.bbox()
    try:
        numbers = tuple(float(part) for part in raw.split(","))
    except ValueError:
        abort(400, description="bbox must be four comma-separated numbers")
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        abort(400, description="bbox must be four comma-separated finite numbers")
    if crs.output.lat_lon:  # minLat,minLon,maxLat,maxLon
        numbers = (numbers[1], numbers[0], numbers[3], numbers[2])
    w, s, e, n = numbers
    if crs.output.srid == WGS84:
        if not (-180.0 <= w <= e <= 180.0 and -90.0 <= s <= n <= 90.0):
            abort(400, description="bbox: west <= east within ±180, south <= north within ±90")
        return (w, s, e, n)
    try:
        with database.engine().connect() as conn:
            return box_in_lon_lat(conn, (w, s, e, n), crs.output.srid)
    except BoxError as exc:
        abort(400, description=str(exc))
    except DBAPIError:  # PROJ could not move it: not a place in that CRS
        abort(400, description="bbox: not a place on Earth in bbox-crs")
