"""What patrol zoning and routing read from PostGIS: villages, roads, households per building,
the posts a patrol stops at (checkpoints, entrances not sealed), the zones already made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, text

from geodata.analysis.coverage.inputs import town_epsg
from geodata.analysis.coverage.metric import project_geoms, project_xy

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Geoms = NDArray[np.object_]


@dataclass(frozen=True)
class PatrolInputs:
    """The town in metres (`epsg`); villages and zones also in longitude/latitude."""

    epsg: int
    village_ids: Ints
    village_codes: list[str]
    villages_m: Geoms
    roads_m: Geoms
    households_xy: Floats
    households: Ints
    stops_xy: Floats
    checkpoint_ids: list[str]
    checkpoints_xy: Floats
    zone_ids: list[str]
    zone_periods: list[str]
    zones_m: Geoms


def _geoms(rows: list[tuple[Any, ...]], column: int) -> Geoms:
    wkb = [bytes(r[column]) for r in rows]
    return np.asarray(shapely.from_wkb(wkb), dtype=np.object_).reshape(-1)


def _xy(rows: list[tuple[Any, ...]], epsg: int) -> Floats:
    if not rows:
        return np.empty((0, 2))
    lonlat = np.array([(float(r[-2]), float(r[-1])) for r in rows])
    return project_xy(lonlat[:, 0], lonlat[:, 1], epsg)


def fetch_patrol_inputs(conn: Connection) -> PatrolInputs:
    """The town as it stands now."""
    villages = [
        tuple(r)
        for r in conn.execute(text("SELECT id, code, ST_AsBinary(geom) FROM villages ORDER BY id"))
    ]
    lonlat = _geoms(villages, 2)
    import pandas as pd

    epsg = town_epsg(pd.DataFrame({"geometry": lonlat}))
    roads = [
        tuple(r) for r in conn.execute(text("SELECT ST_AsBinary(geom) FROM roads ORDER BY id"))
    ]
    homes = [
        tuple(r)
        for r in conn.execute(
            text(
                "SELECT count(*), ST_X(c.p), ST_Y(c.p) FROM households h"
                " JOIN buildings b ON b.id = h.building_id"
                " CROSS JOIN LATERAL (SELECT ST_Centroid(b.geom) AS p) c"
                " GROUP BY b.id, c.p ORDER BY b.id"
            )
        )
    ]
    checkpoints = [
        tuple(r)
        for r in conn.execute(
            text(
                "SELECT source_id, ST_X(geom), ST_Y(geom) FROM checkpoints"
                " WHERE state = 'active' ORDER BY id"
            )
        )
    ]
    entrances = [
        tuple(r)
        for r in conn.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom) FROM entrances e WHERE state <> 'sealed'"
                " AND NOT EXISTS (SELECT 1 FROM checkpoints k WHERE k.entrance_id = e.id"
                " AND k.state = 'active') ORDER BY id"
            )
        )
    ]
    zones = [
        tuple(r)
        for r in conn.execute(
            text(
                "SELECT source_id, period, ST_AsBinary(geom) FROM patrol_zones"
                " WHERE retired_at IS NULL ORDER BY id"
            )
        )
    ]
    checkpoints_xy = _xy(checkpoints, epsg)
    return PatrolInputs(
        epsg=epsg,
        village_ids=np.array([int(r[0]) for r in villages], dtype=np.int64),
        village_codes=[str(r[1]) for r in villages],
        villages_m=project_geoms(lonlat, epsg) if len(lonlat) else lonlat,
        roads_m=project_geoms(_geoms(roads, 0), epsg) if roads else np.empty(0, dtype=object),
        households_xy=_xy(homes, epsg),
        households=np.array([int(r[0]) for r in homes], dtype=np.int64),
        stops_xy=np.concatenate([checkpoints_xy, _xy(entrances, epsg)]),
        checkpoint_ids=[str(r[0]) for r in checkpoints],
        checkpoints_xy=checkpoints_xy,
        zone_ids=[str(r[0]) for r in zones],
        zone_periods=[str(r[1]) for r in zones],
        zones_m=project_geoms(_geoms(zones, 2), epsg) if zones else np.empty(0, dtype=object),
    )
