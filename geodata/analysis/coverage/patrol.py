"""Patrols: the households and road length inside a patrol zone, per time of day."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geodata.analysis.coverage.rollup import count_by_grid

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Geoms = NDArray[np.object_]

PERIODS = ("day", "night")


def _per_grid_areas(zones: Geoms, grids: Geoms, tree: shapely.STRtree) -> Geoms:
    """Per grid, the union of the zones clipped to it (None: no zone there)."""
    out = np.full(len(grids), None, dtype=object)
    if not len(zones):
        return out
    zone_pos, grid_pos = tree.query(zones, predicate="intersects")
    if not len(zone_pos):
        return out
    clipped = shapely.intersection(zones[zone_pos], grids[grid_pos])
    order = np.argsort(grid_pos, kind="stable")
    cuts = np.flatnonzero(np.diff(grid_pos[order])) + 1
    for group in np.split(order, cuts):
        out[int(grid_pos[group[0]])] = shapely.union_all(clipped[group])
    return out


def patrol_figures(
    zones: pd.DataFrame,
    zone_geoms_m: Geoms,
    households_xy: Floats,
    household_grid_pos: Ints,
    grid_geoms_m: Geoms,
    road_geoms_m: Geoms,
    *,
    grid_tree: shapely.STRtree | None = None,
    household_weights: Ints | None = None,
) -> dict[str, Floats]:
    """Per grid: households, households_patrolled_<period>, road_m, road_m_patrolled_<period>.

    `zones` has `period` (day, night) and `staffed` columns: a zone patrols only when a
    shift with people is on it in its period (unstaffed zones patrol nothing). A household
    is where its building is (NaN: nowhere, never patrolled); its grid is
    `household_grid_pos` (-1: none). Each road counts for its length inside each grid;
    the patrolled part is the part inside the union of that period's zones.
    With `household_weights`, each household row stands for that many households.
    """
    n = len(grid_geoms_m)
    grids = np.asarray(grid_geoms_m, dtype=object)
    roads = np.asarray(road_geoms_m, dtype=object)
    zone_geoms = np.asarray(zone_geoms_m, dtype=object)
    tree = grid_tree if grid_tree is not None else shapely.STRtree(grids)
    hh_grid = np.asarray(household_grid_pos, dtype=np.int64)
    xy = np.asarray(households_xy, dtype=float).reshape(-1, 2)
    placed = np.isfinite(xy).all(axis=1)

    road_pos, road_grid = (
        tree.query(roads, predicate="intersects") if len(roads) and n else (np.empty(0, int),) * 2
    )
    pieces = shapely.intersection(roads[road_pos], grids[road_grid])
    out: dict[str, Floats] = {
        "households": count_by_grid(hh_grid, n, weights=household_weights).astype(float),
        "road_m": np.bincount(road_grid, weights=shapely.length(pieces), minlength=n).astype(float),
    }
    for period in PERIODS:
        mask = np.asarray(zones["period"] == period) & np.asarray(zones["staffed"], dtype=bool)
        chosen = zone_geoms[mask]
        area = shapely.union_all(chosen) if len(chosen) else None
        inside = np.zeros(len(xy), dtype=bool)
        if area is not None and placed.any():
            shapely.prepare(area)
            inside[placed] = shapely.contains_xy(area, xy[placed, 0], xy[placed, 1])
        out[f"households_patrolled_{period}"] = count_by_grid(
            hh_grid, n, inside, weights=household_weights
        ).astype(float)
        in_grid = _per_grid_areas(chosen, grids, tree)
        zoned = np.asarray([in_grid[g] is not None for g in road_grid.tolist()], dtype=bool)
        patrolled = np.zeros(len(pieces), dtype=float)
        if zoned.any():
            patrolled[zoned] = shapely.length(
                shapely.intersection(pieces[zoned], in_grid[road_grid[zoned]])
            )
        out[f"road_m_patrolled_{period}"] = np.bincount(
            road_grid, weights=patrolled, minlength=n
        ).astype(float)
    return out


def zones_without_team(zones: pd.DataFrame) -> pd.DataFrame:
    """Patrol zones no team is assigned to."""
    return zones.loc[zones["team_id"].isna(), ["id", "name", "period", "village_id"]]


def zones_without_shift(zones: pd.DataFrame) -> pd.DataFrame:
    """Patrol zones with nobody on a shift in their period: they patrol nothing."""
    staffed = np.asarray(zones["staffed"], dtype=bool)
    return zones.loc[~staffed, ["id", "name", "period", "village_id"]]


def _share(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole > 0 else None


def period_figures(sums: dict[str, Any], period: str) -> dict[str, Any]:
    """One period's figures from summed per-grid counts (road lengths in decimetres)."""
    households, covered = int(sums["households"]), int(sums[f"households_patrolled_{period}"])
    road_dm, road_covered_dm = int(sums["road_dm"]), int(sums[f"road_dm_patrolled_{period}"])
    return {
        "households": households,
        "households_covered": covered,
        "households_covered_pct": _share(covered, households),
        "road_km": round(road_dm / 10_000, 3),
        "road_km_covered": round(road_covered_dm / 10_000, 3),
        "road_km_covered_pct": _share(road_covered_dm, road_dm),
    }


def as_counts(figures: dict[str, Floats]) -> dict[str, Ints]:
    """The per-grid figures as integers: households, and road lengths in decimetres."""
    out: dict[str, Ints] = {}
    for name, values in figures.items():
        if name.startswith("road_m"):
            out[name.replace("road_m", "road_dm", 1)] = np.rint(values * 10).astype(np.int64)
        else:
            out[name] = np.rint(values).astype(np.int64)
    return out
