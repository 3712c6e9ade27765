"""A GeoJSON FeatureCollection read as rows of text fields, for the layers whose rows go
through their records' own checks (enterprises, publicity points): each feature's properties
(names lower-cased, values as the text a CSV would hold) and its geometry as 2-D `wkt`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from geodata.imports import files
from geodata.imports.files import refuse
from geodata.imports.geojson_parse import parse
from geodata.imports.geojson_text import check_depth

GEOJSON_SUFFIXES = (".geojson", ".json")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError("a property that is not text, a number or a boolean")


def read_features(path: Path, *, encoding: str | None) -> list[tuple[int, dict[str, str]]]:
    """(feature index, {field: text}) for every feature; refuses the file (FileRefused)
    when it is not a FeatureCollection or a feature cannot be read, naming the feature."""
    data = path.read_bytes()
    check_depth(data, path)
    body = parse(files.decode_text(data, path, given=encoding), path)
    if not isinstance(body, dict) or body.get("type") != "FeatureCollection":
        raise refuse(path, "not a GeoJSON FeatureCollection")
    features = body.get("features")
    if not isinstance(features, list):
        raise refuse(path, "a FeatureCollection needs a features array")
    rows: list[tuple[int, dict[str, str]]] = []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise refuse(path, f"feature {index}: not a GeoJSON Feature")
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise refuse(path, f"feature {index}: properties is not an object")
        try:
            row = {str(k).strip().lower(): _text(v).strip() for k, v in properties.items()}
            geometry = feature.get("geometry")
            if geometry is not None:
                row["wkt"] = shapely.force_2d(shape(geometry)).wkt
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            raise refuse(path, f"feature {index}: {str(exc)[:120]}") from None
        except shapely.errors.GEOSException as exc:
            raise refuse(path, f"feature {index}: geometry: {str(exc)[:120]}") from None
        rows.append((index, row))
    return rows
