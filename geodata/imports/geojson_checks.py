"""Checks of parsed GeoJSON: the features' structure, positions and numbers, a legacy crs
member; a whole document decoded, parsed and checked."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geodata.imports.files import decode_text, refuse
from geodata.imports.geojson_parse import parse, parse_fast
from geodata.imports.geojson_text import UTF8_BOM, check_depth
from geodata.imports.report import Issue

GEOMETRY = "geometry"

_EPSG_NAME = re.compile(r"^(?:urn:ogc:def:crs:)?EPSG:(?:[\d.]*:)?:?(\d+)$", re.IGNORECASE)
_CRS84_NAMES = {"urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84", "ogc:crs84"}

# Nesting depth of `coordinates` for each geometry type: 0 is one position.
_COORDINATE_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


@dataclass
class GeoJsonCheck:
    """What the text says: per-feature problems, the feature count, a legacy crs member, 3-D."""

    feature_count: int
    issues: list[Issue] = field(default_factory=list)
    legacy_crs: str | None = None
    """The CRS a legacy `crs` member names, as 'EPSG:NNNN' or 'OGC:CRS84'; None when absent."""
    z_features: int = 0
    """Features with 3-D positions (the Z is dropped later, with a warning)."""
    three_d: set[int] = field(default_factory=set)
    """Which features those are."""

    @property
    def failed_features(self) -> set[int]:
        return {i.feature for i in self.issues if i.feature is not None}


def legacy_crs_name(doc: dict[str, Any], path: Path) -> str | None:
    """The CRS a legacy (2008) `crs` member names: 'EPSG:NNNN', 'OGC:CRS84', or None if absent."""
    crs = doc.get("crs")
    if crs is None:
        return None
    if not isinstance(crs, dict) or not isinstance(crs.get("properties"), dict):
        raise refuse(path, "the legacy crs member is malformed")
    props = crs["properties"]
    if crs.get("type") == "EPSG" and isinstance(props.get("code"), int):
        return f"EPSG:{props['code']}"
    name = props.get("name")
    if crs.get("type") == "name" and isinstance(name, str):
        if name.lower() in _CRS84_NAMES:
            return "OGC:CRS84"
        m = _EPSG_NAME.match(name.strip())
        if m:
            return f"EPSG:{int(m.group(1))}"
    raise refuse(path, "the legacy crs member names no EPSG code: pass a file in WGS84 (RFC 7946)")


def _is_number(v: object) -> bool:
    return type(v) is float or type(v) is int


def _check_positions(positions: Any) -> tuple[str | None, bool]:
    """(problem, has_z) of a list of positions."""
    if type(positions) is not list:
        return "coordinates are not an array of positions", False
    has_z = False
    for p in positions:
        if type(p) is not list:
            return "a position is not an array of numbers", False
        n = len(p)
        if n == 2:
            x, y = p
            if not (_is_number(x) and _is_number(y)):
                return "a coordinate is not a number (string coordinates are refused)", False
            if not (math.isfinite(x) and math.isfinite(y)):
                return "a coordinate is NaN or infinite (or overflows, like 1e400)", False
        elif n == 3:
            if not all(_is_number(c) for c in p):
                return "a coordinate is not a number (string coordinates are refused)", False
            if not all(math.isfinite(c) for c in p):
                return "a coordinate is NaN or infinite (or overflows, like 1e400)", False
            has_z = True
        elif n == 4:
            return "4-D positions (x, y, z, m) are refused", False
        else:
            return f"a position has {n} values: expected 2 (or 3)", False
    return None, has_z


def _check_coordinates(coords: Any, depth: int) -> tuple[str | None, bool]:
    if depth == 0:
        return _check_positions([coords])
    if depth == 1:
        return _check_positions(coords)
    if type(coords) is not list:
        return "coordinates are not nested arrays", False
    has_z = False
    for part in coords:
        problem, z = _check_coordinates(part, depth - 1)
        if problem:
            return problem, False
        has_z = has_z or z
    return None, has_z


def check_geometry(geom: Any, *, expect_geometry: bool) -> tuple[str | None, bool]:
    """(problem, has_z) of one GeoJSON geometry object."""
    if geom is None:
        return ("geometry is null" if expect_geometry else None), False
    if not isinstance(geom, dict):
        return "geometry is not an object", False
    kind = geom.get("type")
    if kind == "GeometryCollection":
        parts = geom.get("geometries")
        if type(parts) is not list:
            return "a GeometryCollection without a geometries array", False
        has_z = False
        for part in parts:
            if isinstance(part, dict) and part.get("type") == "GeometryCollection":
                return "nested GeometryCollections are refused", False
            problem, z = check_geometry(part, expect_geometry=True)
            if problem:
                return problem, False
            has_z = has_z or z
        return None, has_z
    depth = _COORDINATE_DEPTH.get(kind) if isinstance(kind, str) else None
    if depth is None:
        shown = repr(kind)[:40] if kind is not None else "none"
        return f"unknown geometry type {shown}", False
    if "coordinates" not in geom:
        return f"a {kind} without coordinates", False
    return _check_coordinates(geom["coordinates"], depth)


def features_of(doc: Any, path: Path) -> list[Any]:
    if not isinstance(doc, dict):
        raise refuse(path, "not a GeoJSON object")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if type(features) is not list:
            raise refuse(path, "a FeatureCollection without a features array")
        return features
    if kind == "Feature":
        return [doc]
    if kind in _COORDINATE_DEPTH or kind == "GeometryCollection":
        return [{"type": "Feature", "properties": None, "geometry": doc}]
    raise refuse(path, "not GeoJSON: the top-level type is not FeatureCollection or Feature")


def _bad_number(props: Any) -> str | None:
    if not isinstance(props, dict):
        return None
    for key, value in props.items():
        if type(value) is float and not math.isfinite(value):
            return str(key)
    return None


def check_document(doc: Any, path: Path, *, expect_geometry: bool) -> GeoJsonCheck:
    """Every feature checked; each failing one reported once with its 0-based index."""
    result = check_features(features_of(doc, path), expect_geometry=expect_geometry)
    result.legacy_crs = legacy_crs_name(doc, path)
    return result


def check_features(features: list[Any], *, expect_geometry: bool) -> GeoJsonCheck:
    """Every feature of a list checked; each failing one reported once with its position.
    (A chunk of plain 2-D features parsed by orjson does not come here: `geojson_features.
    plain` takes it in one pass.)"""
    result = GeoJsonCheck(feature_count=len(features))
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            result.issues.append(Issue(reason="not a Feature object", feature=i))
            continue
        problem, has_z = check_geometry(feature.get("geometry"), expect_geometry=expect_geometry)
        if problem:
            result.issues.append(Issue(reason=problem, feature=i, field=GEOMETRY))
            continue
        if has_z:
            result.z_features += 1
            result.three_d.add(i)
        bad_key = _bad_number(feature.get("properties"))
        if bad_key is not None:
            result.issues.append(
                Issue(reason="a value is NaN or infinite", feature=i, field=bad_key)
            )
    return result


def check_text(
    data: bytes, path: Path, *, encoding: str | None, expect_geometry: bool
) -> tuple[Any, GeoJsonCheck]:
    """Decode, parse strictly and check a GeoJSON file: the document and the findings."""
    text: str | None = decode_text(data, path, given=encoding)
    assert text is not None
    # GBK trail bytes can look like a backslash: scan UTF-8 only.
    if encoding is None:
        utf8, text = data.removeprefix(UTF8_BOM), None
    else:
        utf8 = text.encode("utf-8")
    found = check_depth(utf8, path)
    doc = parse_fast(utf8, found)
    if doc is None:
        doc = parse(text if text is not None else utf8.decode("utf-8"), path)
    del utf8, text
    return doc, check_document(doc, path, expect_geometry=expect_geometry)
