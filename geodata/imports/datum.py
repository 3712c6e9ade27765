"""GCJ-02 and BD-09 (Chinese consumer maps) to and from WGS84, on numpy arrays of degrees."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from geodata.imports.report import Datum

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Krasovsky 1940 ellipsoid, as in the published GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# The rough box outside which the GCJ-02 offset is not applied (as in eviltransform).
CHINA_LON_MIN = 72.004
CHINA_LON_MAX = 137.8347
CHINA_LAT_MIN = 0.8293
CHINA_LAT_MAX = 55.8271

TOLERANCE_DEG = 5e-6
"""Convergence threshold of the inverse transforms: about 0.5 m."""
_MAX_ITERATIONS = 30


class OutsideChinaError(ValueError):
    """Some positions lie outside China's extent, where GCJ-02 and BD-09 are not defined."""

    def __init__(self, outside: BoolArray) -> None:
        self.outside = outside
        super().__init__(f"{int(outside.sum())} positions lie outside China's extent")


def inside_china(lon: FloatArray, lat: FloatArray) -> BoolArray:
    """True where a position lies in the rough box of China used by the GCJ-02 algorithm."""
    return (
        (lon >= CHINA_LON_MIN)
        & (lon <= CHINA_LON_MAX)
        & (lat >= CHINA_LAT_MIN)
        & (lat <= CHINA_LAT_MAX)
    )


def _delta_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _check_inside(lon: FloatArray, lat: FloatArray) -> None:
    outside = ~inside_china(lon, lat)
    if outside.any():
        raise OutsideChinaError(outside)


def _gcj02_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    d_lat = _delta_lat(x, y)
    d_lon = _delta_lon(x, y)
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def _wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    d_lon, d_lat = _gcj02_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def _gcj02_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _wgs84_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))


Transform = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]


def _invert(forward: Transform, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration, to TOLERANCE_DEG everywhere."""
    x, y = lon.copy(), lat.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x -= dx
        y -= dy
        if not len(x) or float(np.max(np.hypot(dx, dy))) < TOLERANCE_DEG / 10.0:
            break
    return x, y


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    return (
        np.atleast_1d(np.asarray(lon, dtype=np.float64)),
        np.atleast_1d(np.asarray(lat, dtype=np.float64)),
    )


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The published GCJ-02 forward transform; raises OutsideChinaError outside China."""
    x, y = _as_arrays(lon, lat)
    _check_inside(x, y)
    return _wgs84_to_gcj02(x, y)


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The inverse of the GCJ-02 transform (iterated to < 0.5 m); raises OutsideChinaError."""
    x, y = _as_arrays(lon, lat)
    _check_inside(x, y)
    return _invert(_wgs84_to_gcj02, x, y)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 to BD-09 (GCJ-02, then Baidu's own offset); raises OutsideChinaError."""
    x, y = _as_arrays(lon, lat)
    _check_inside(x, y)
    return _wgs84_to_bd09(x, y)


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The inverse of wgs84_to_bd09 (iterated to < 0.5 m); raises OutsideChinaError."""
    x, y = _as_arrays(lon, lat)
    _check_inside(x, y)
    return _invert(_wgs84_to_bd09, x, y)


def to_wgs84(datum: Datum, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Positions in `datum` converted to WGS84; OutsideChinaError for GCJ-02/BD-09 outside China."""
    if datum is Datum.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if datum is Datum.BD09:
        return bd09_to_wgs84(lon, lat)
    return _as_arrays(lon, lat)
