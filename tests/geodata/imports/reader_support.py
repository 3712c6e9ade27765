"""Helpers of the reader tests: the shared files, small GeoJSON documents, a refusal's text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from geodata.imports.readers import read_layer
from geodata.imports.report import FileRefused, ReadOptions
from tests.shared_data import SHARED_DATA

DATA = SHARED_DATA
ZHAOQING = DATA / "china" / "zhaoqing_compounds_gated.geojson"
SUZHOU = DATA / "china" / "suzhou_buildings_floors.geojson"
OSM_PBF = DATA / "osm" / "liechtenstein-2013-08-03.osm.pbf"
OSM_GPKG = DATA / "osm" / "liechtenstein-2013-08-03.gpkg"

SQUARE = [[[120.0, 31.0], [120.001, 31.0], [120.001, 31.001], [120.0, 31.001], [120.0, 31.0]]]


def feature(geometry: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def collection(*features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", **extra, "features": list(features)}


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def polygon(*, props: dict[str, Any] | None = None) -> dict[str, Any]:
    return feature({"type": "Polygon", "coordinates": SQUARE}, **(props or {"n": 1}))


def refused(path: Path, options: ReadOptions | None = None, **kw: Any) -> str:
    with pytest.raises(FileRefused) as info:
        read_layer(path, options or ReadOptions(), expect_geometry=kw.pop("expect", True), **kw)
    return info.value.issues[0].reason
