"""Patrols: the households and road length inside a patrol zone, per time of day."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Geoms = NDArray[np.object_]


def patrol_figures(
    zones: pd.DataFrame,
    zone_geoms_m: Geoms,
    households_xy: Floats,
    household_grid_pos: Ints,
    grid_geoms_m: Geoms,
    road_geoms_m: Geoms,
) -> dict[str, Floats]:
    """Per grid: households, households_patrolled_<period>, road_m, road_m_patrolled_<period>.

    `zones` has a `period` column (day, night); zones without a team patrol nothing.
    """
    n = len(grid_geoms_m)
    grids = np.asarray(grid_geoms_m, dtype=object)
    roads = shapely.union_all(np.asarray(road_geoms_m, dtype=object))
    road_in_grid = shapely.intersection(grids, roads) if n else np.empty(0, dtype=object)
    out: dict[str, Floats] = {
        "households": np.bincount(household_grid_pos, minlength=n).astype(float),
        "road_m": np.asarray(shapely.length(road_in_grid), dtype=float),
    }
    for period in ("day", "night"):
        mask = np.asarray(zones["period"] == period) & np.asarray(zones["team_id"].notna())
        area = shapely.union_all(np.asarray(zone_geoms_m, dtype=object)[mask])
        inside = shapely.contains_xy(area, households_xy[:, 0], households_xy[:, 1])
        out[f"households_patrolled_{period}"] = np.bincount(
            household_grid_pos[inside], minlength=n
        ).astype(float)
        out[f"road_m_patrolled_{period}"] = np.asarray(
            shapely.length(shapely.intersection(road_in_grid, area)), dtype=float
        )
    return out


def zones_without_team(zones: pd.DataFrame) -> pd.DataFrame:
    """Patrol zones no team is assigned to."""
    return zones.loc[zones["team_id"].isna(), ["id", "name", "period", "village_id"]]
