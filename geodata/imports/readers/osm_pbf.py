"""OpenStreetMap PBF extracts, read by GDAL's OSM driver: the layer a geometry type needs."""

from __future__ import annotations

from pathlib import Path

from pyproj import CRS

from geodata.imports.files import refuse
from geodata.imports.readers.crs import WGS84, resolve_crs
from geodata.imports.readers.finish import Read
from geodata.imports.readers.gdal import check_driver, gdal_read
from geodata.imports.report import ReadOptions

OSM_LAYERS = ("points", "lines", "multilinestrings", "multipolygons")
_OSM_LAYER_BY_GEOMETRY = {
    "Point": "points",
    "MultiPoint": "points",
    "LineString": "lines",
    "MultiLineString": "lines",
    "Polygon": "multipolygons",
    "MultiPolygon": "multipolygons",
}


def read_osm(
    path: Path, options: ReadOptions, given: CRS | None, geometry_type: str | None
) -> Read:
    layer = options.layer_name or _OSM_LAYER_BY_GEOMETRY.get(geometry_type or "")
    if layer not in OSM_LAYERS:
        raise refuse(path, f"an OSM extract needs --layer {'|'.join(OSM_LAYERS)}")
    check_driver(path, str(path), "OSM")
    frame = gdal_read(path, str(path), layer=layer)
    return Read(path, frame, resolve_crs(path, WGS84, given, where="OSM extract's WGS84"))
