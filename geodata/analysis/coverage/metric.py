"""The metric CRS of a town (the UTM zone of its centroid) and projection into it."""

from __future__ import annotations

import functools

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from geodata.analysis.utm import utm_epsg

__all__ = ["project_geoms", "project_xy", "unproject_xy", "utm_epsg"]

Floats = NDArray[np.float64]
Geoms = NDArray[np.object_]


@functools.cache
def _transformer(epsg: int) -> Transformer:
    return Transformer.from_crs(4326, epsg, always_xy=True)


def project_xy(lon: Floats, lat: Floats, epsg: int) -> Floats:
    """Longitudes and latitudes as an (n, 2) array of metres in `epsg`."""
    x, y = _transformer(epsg).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([np.asarray(x, float), np.asarray(y, float)])


def project_geoms(geoms: Geoms, epsg: int) -> Geoms:
    """Shapely geometries in longitude/latitude, re-expressed in `epsg`."""
    transformer = _transformer(epsg)

    def move(coords: Floats) -> Floats:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), move), dtype=object)


@functools.cache
def _inverse(epsg: int) -> Transformer:
    return Transformer.from_crs(epsg, 4326, always_xy=True)


def unproject_xy(xy: Floats, epsg: int) -> Floats:
    """Metres in `epsg` back to an (n, 2) array of longitudes and latitudes."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    lon, lat = _inverse(epsg).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([np.asarray(lon, float), np.asarray(lat, float)])
