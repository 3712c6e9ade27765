"""Leaks: where a road crosses a village boundary with neither a sealed nor a guarded entrance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]
Geoms = NDArray[np.object_]

ENTRANCE_MATCH_M = 50.0
"""A village entrance this close to a crossing is the entrance of that crossing."""
CROSSING_MERGE_M = 1.0
"""Crossings of one village closer than this (two ways meeting on the boundary) are one."""


def road_crossings(
    village_geoms_m: Geoms, village_ids: Ints, road_geoms_m: Geoms, road_ids: Ints
) -> pd.DataFrame:
    """Every point where a road meets a village's boundary: village_id, road_id, x, y.

    Stretches where a road runs along the boundary are not crossings. Sorted by village,
    then road id; one row per point and village.
    """
    columns = {"village_id": np.int64, "road_id": np.int64, "x": float, "y": float}
    empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    if len(village_geoms_m) == 0 or len(road_geoms_m) == 0:
        return empty
    boundaries = shapely.boundary(np.asarray(village_geoms_m, dtype=object))
    roads = np.asarray(road_geoms_m, dtype=object)
    b, r = shapely.STRtree(roads).query(boundaries, predicate="intersects")
    if not len(b):
        return empty
    meet = shapely.intersection(boundaries[b], roads[r])
    parts, which = shapely.get_parts(meet, return_index=True)
    point = shapely.get_type_id(parts) == 0
    parts, which = parts[point], which[point]
    frame = pd.DataFrame(
        {
            "village_id": np.asarray(village_ids)[b[which]],
            "road_id": np.asarray(road_ids)[r[which]],
            "x": shapely.get_x(parts),
            "y": shapely.get_y(parts),
        }
    )
    frame["cx"] = np.round(frame["x"] / CROSSING_MERGE_M).astype(np.int64)
    frame["cy"] = np.round(frame["y"] / CROSSING_MERGE_M).astype(np.int64)
    frame = frame.sort_values(["village_id", "road_id", "x", "y"], kind="stable")
    frame = frame.drop_duplicates(["village_id", "cx", "cy"]).drop(columns=["cx", "cy"])
    return frame.reset_index(drop=True)


def leaking(
    crossings: pd.DataFrame,
    entrance_xy: Floats,
    entrance_village_ids: Floats,
    entrance_closed: Bools,
    *,
    match_m: float = ENTRANCE_MATCH_M,
) -> Bools:
    """Crossings with no entrance of their village within `match_m` that closes them.

    `entrance_closed`: sealed, or open with a staffed checkpoint.
    """
    n = len(crossings)
    leak = np.ones(n, dtype=bool)
    if n == 0 or len(entrance_xy) == 0:
        return leak
    hits: NDArray[np.object_] = np.asarray(
        cKDTree(entrance_xy).query_ball_point(
            crossings[["x", "y"]].to_numpy(float), r=match_m, return_sorted=False
        ),
        dtype=object,
    )
    lengths = np.fromiter((len(h) for h in hits), dtype=np.int64, count=n)
    if not lengths.sum():
        return leak
    crossing = np.repeat(np.arange(n), lengths)
    entrance = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits if len(h)])
    same = (
        np.asarray(entrance_village_ids, float)[entrance]
        == np.asarray(crossings["village_id"], float)[crossing]
    )
    closes = same & np.asarray(entrance_closed)[entrance]
    leak[crossing[closes]] = False
    return leak
