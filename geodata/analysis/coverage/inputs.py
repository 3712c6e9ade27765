"""What the coverage figures are computed from: plain frames, however they were read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import shapely

from geodata.analysis.coverage.metric import utm_epsg

DEFAULT_RADIUS_M = 500.0
"""Reach radius of a checkpoint with no radius of its own."""


@dataclass(frozen=True)
class CoverageInputs:
    """The town as of one moment; times are seconds since the epoch (NaN: none).

    Frames and their columns (positions are longitude/latitude, geometries shapely in 4326):

    - villages: id, code, name, geometry
    - grids: id, code, name, village_id, geometry
    - households: id, grid_id, building_id, lon, lat (the building's centroid),
      last_visit_s (the latest visit at or before ``as_of``); or, counted per building and
      grid (no id, no household listed as an item): grid_id, building_id, lon, lat, n (how
      many households), never (never visited by ``as_of``), screened (seen in the screening
      window up to ``as_of``), screened_24h (in the 24 hours up to it)
    - buildings: id, grid_id, lon, lat (centroid)
    - checkpoints: id, name, active, radius_m, staff_per_shift, village_id, entrance_id, lon, lat
    - shifts: checkpoint_id, starts_s, ends_s, staff_count
    - entrances: id, name, compound_id, village_id, state (as of ``as_of``), lon, lat
    - compounds: id, name, village_id, lon, lat (a point on its surface)
    - roads: id, name, highway, geometry
    - patrol_zones: id, name, period, team_id, village_id, staffed (a shift with people on
      the zone in its period's window), geometry

    Point frames may also carry ``x``, ``y``: the same positions in metres in ``epsg`` (the
    town's metric CRS), projected once when the inputs are read.

    ``grid_ids`` is the scope the personal rows (households, buildings) were read for;
    None: the whole town.
    """

    as_of: datetime
    villages: pd.DataFrame
    grids: pd.DataFrame
    households: pd.DataFrame
    buildings: pd.DataFrame
    checkpoints: pd.DataFrame
    shifts: pd.DataFrame
    entrances: pd.DataFrame
    compounds: pd.DataFrame
    roads: pd.DataFrame
    patrol_zones: pd.DataFrame
    grid_ids: frozenset[int] | None = None
    epsg: int | None = None
    crossings: pd.DataFrame | None = None
    """Where roads cross village boundaries (`road_crossings`), when already known for these
    villages and roads; None: computed from them."""

    @property
    def as_of_s(self) -> float:
        return self.as_of.timestamp()

    def metric_epsg(self) -> int:
        """The UTM zone of the centre of the town's extent (villages, else grids)."""
        if self.epsg is not None:
            return self.epsg
        return town_epsg(self.villages if len(self.villages) else self.grids)


def town_epsg(areas: pd.DataFrame) -> int:
    """The UTM zone of the centre of the extent of these areas (a `geometry` column)."""
    if not len(areas):
        return utm_epsg(0.0, 0.0)
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray(areas["geometry"], dtype=object))
    return utm_epsg(float((xmin + xmax) / 2), float((ymin + ymax) / 2))
