"""Demand points and candidate sites from GeoJSON files, read with the import reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geodata.identifiers import identifier_problem
from geodata.imports import files
from geodata.imports.files import FileFormat, refuse
from geodata.imports.readers import FEATURE_COLUMN, read_layer
from geodata.imports.report import FileRefused, Issue, ReadOptions


def _points(path: Path) -> pd.DataFrame:
    """A GeoJSON file of points: its properties, `lon`, `lat` and `position` (0-based)."""
    path = Path(path)
    if not path.is_file():
        raise refuse(path, "no such file")
    if files.detect_format(path) is not FileFormat.GEOJSON:
        raise refuse(path, "not a GeoJSON file: give a FeatureCollection of points")
    layer = read_layer(path, ReadOptions(), expect_geometry=True)
    if layer.errors:
        first = layer.errors[0]
        where = f"feature {first.feature}: " if first.feature is not None else ""
        raise refuse(path, f"{len(layer.errors)} features refused, {where}{first.reason}")
    frame = layer.frame
    geoms = frame.geometry.to_numpy(dtype=object)
    kinds = shapely.get_type_id(geoms)
    if len(geoms) and not np.all(kinds == 0):
        bad = int(np.flatnonzero(kinds != 0)[0])
        raise refuse(path, f"feature {bad}: every feature must be a Point")
    lon, lat = shapely.get_x(geoms), shapely.get_y(geoms)
    out = pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
    out["position"] = frame[FEATURE_COLUMN].to_numpy(np.int64)
    out["lon"], out["lat"] = np.asarray(lon, float), np.asarray(lat, float)
    off = ~((np.abs(out["lon"]) <= 180) & (np.abs(out["lat"]) <= 90))
    if off.any():
        raise refuse(path, f"feature {int(np.flatnonzero(off)[0])}: not a longitude/latitude")
    return out.reset_index(drop=True)


def read_demand(path: Path) -> pd.DataFrame:
    """Demand points with a numeric, finite, non-negative `weight` property each."""
    frame = _points(path)
    if not len(frame):
        raise refuse(path, "no demand points")
    if "weight" not in frame.columns:
        raise refuse(path, "every demand point needs a numeric `weight` property")
    weight = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(weight) | (weight < 0)
    if bad.any():
        raise refuse(path, f"feature {int(np.flatnonzero(bad)[0])}: weight must be a number >= 0")
    frame["weight"] = weight
    frame["id"] = _ids(frame)
    return frame


def read_candidates(path: Path) -> pd.DataFrame:
    """Candidate sites: `id` is the `source_id` property, else the position in the file.

    An id that cannot be a source id (`geodata.identifiers`) refuses the file, every such
    feature named."""
    frame = _points(path)
    if not len(frame):
        raise refuse(path, "no candidate sites")
    frame["id"] = _ids(frame)
    bad = [
        Issue(reason=f"the source id {problem}", feature=int(position), field="source_id")
        for position, site_id in zip(frame["position"].tolist(), frame["id"], strict=True)
        if (problem := identifier_problem(site_id)) is not None
    ]
    if bad:
        raise FileRefused(path, bad)  # a candidate's id becomes a checkpoint's when applied
    kind = frame["kind"] if "kind" in frame.columns else pd.Series(index=frame.index, dtype=object)
    frame["kind"] = kind.where(kind.notna(), "site").astype(str)
    return frame


def _ids(frame: pd.DataFrame) -> list[str]:
    positions = frame["position"].astype(str).tolist()
    if "source_id" not in frame.columns:
        return positions
    return [
        positions[i]
        if value is None or (not isinstance(value, str) and pd.isna(value))
        else str(value)
        for i, value in enumerate(frame["source_id"].astype(object).tolist())
    ]
