"""The sample town in memory: a frame per table, rows numbered by source id."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TownPlan:
    """Every row of the sample town; foreign keys are positions in the referenced frame."""

    villages: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    households: pd.DataFrame
    residents: pd.DataFrame
    entrances: gpd.GeoDataFrame
    checkpoints: gpd.GeoDataFrame
    shifts: pd.DataFrame
    shift_staff: pd.DataFrame
    teams: pd.DataFrame
    staff: pd.DataFrame
    patrol_zones: gpd.GeoDataFrame
    isolation_sites: gpd.GeoDataFrame
    visits: pd.DataFrame
    campaigns: pd.DataFrame


def serial_ids(prefix: str, n: int) -> list[str]:
    """``<prefix>1`` ... ``<prefix>n``."""
    return [str(s) for s in np.char.add(prefix, np.arange(1, n + 1).astype(str))]
