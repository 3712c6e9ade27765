"""The town's demand (households per building) and candidate sites, read from PostGIS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geodata.analysis.coverage.inputs import CoverageInputs
from geodata.analysis.placement.candidates import (
    entrance_sites,
    merge_sites,
    project_roads_and_villages,
    road_sites,
)
from geodata.records.coverage_inputs import fetch_inputs

Weighting = Literal["members", "households"]


@dataclass(frozen=True)
class TownPlanInputs:
    """Demand points (id, lon, lat, weight, households, members), candidate sites, the town."""

    demand: pd.DataFrame
    sites: pd.DataFrame
    town: CoverageInputs


def _source_ids(conn: Connection, table: str) -> dict[int, str]:
    rows = conn.execute(text(f"SELECT id, source_id FROM {table}"))  # noqa: S608 (table is a literal name given by this module)
    return {int(i): str(s) for i, s in rows}


def building_demand(
    conn: Connection, *, grid_ids: frozenset[int] | None = None, weighting: Weighting = "members"
) -> pd.DataFrame:
    """Households aggregated to their buildings' centroids, weighted by members or households."""
    if weighting not in ("members", "households"):
        raise ValueError("weighting: members or households")
    scope = "TRUE" if grid_ids is None else "h.grid_id = ANY(:grids)"
    rows = conn.execute(
        text(
            "SELECT b.source_id, ST_X(c.p), ST_Y(c.p), count(*), sum(h.members)"  # noqa: S608 (scope is one of two constant strings; grids are bound)
            " FROM households h JOIN buildings b ON b.id = h.building_id"
            " CROSS JOIN LATERAL (SELECT ST_Centroid(b.geom) AS p) c"
            f" WHERE {scope} GROUP BY b.id, b.source_id, c.p ORDER BY b.id"
        ),
        {"grids": sorted(grid_ids or ())},
    ).all()
    demand = pd.DataFrame(rows, columns=["id", "lon", "lat", "households", "members"])
    demand = demand.astype(
        {"id": str, "lon": float, "lat": float, "households": np.int64, "members": np.int64}
    )
    demand["weight"] = demand[weighting].astype(float)
    return demand


def town_sites(conn: Connection, town: CoverageInputs) -> pd.DataFrame:
    """Candidate sites: checkpoints, open entrances, road crossings and junctions."""
    epsg = town.metric_epsg()
    entrances = town.entrances.assign(
        source_id=town.entrances["id"].map(_source_ids(conn, "entrances"))
    )
    checkpoints = town.checkpoints.assign(
        source_id=town.checkpoints["id"].map(_source_ids(conn, "checkpoints"))
    )
    roads_m, villages_m = project_roads_and_villages(town.roads, town.villages, epsg)
    village_ids = town.villages["id"].to_numpy(np.int64)
    return merge_sites(
        entrance_sites(entrances, checkpoints), road_sites(roads_m, village_ids, villages_m, epsg)
    )


def fetch_plan_inputs(
    conn: Connection, *, grid_ids: frozenset[int] | None = None, weighting: Weighting = "members"
) -> TownPlanInputs:
    """Demand in `grid_ids` (None: the town) and the town's candidate sites as of now."""
    town = fetch_inputs(conn, grid_ids=grid_ids)
    demand = building_demand(conn, grid_ids=grid_ids, weighting=weighting)
    return TownPlanInputs(demand=demand, sites=town_sites(conn, town), town=town)
