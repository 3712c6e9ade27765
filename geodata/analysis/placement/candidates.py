"""Candidate sites from the town: open entrances, village-boundary road crossings, junctions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geodata.analysis.coverage.closure import OPEN_STATES
from geodata.analysis.coverage.metric import project_geoms, unproject_xy
from geodata.analysis.coverage.network import RoadNetwork
from geodata.vocab import CANDIDATE_KINDS

Floats = NDArray[np.float64]
Geoms = NDArray[np.object_]

SAME_SITE_M = 1.0
"""Candidates closer than this are one site (the first kind listed wins)."""

KINDS = CANDIDATE_KINDS
"""Candidate kinds, in the order that wins when two fall on one spot."""

POST_ROADS = frozenset(
    {
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "road",
    }
)
"""Roads a checkpoint stands on: footways, paths, tracks and service ways are left out."""

COLUMNS = ["id", "kind", "lon", "lat", "x", "y", "checkpoint_id", "entrance_id", "village_id"]


def _frame(rows: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan
    return frame[COLUMNS]


def entrance_sites(entrances: pd.DataFrame, checkpoints: pd.DataFrame) -> pd.DataFrame:
    """Active checkpoints, then open entrances (state open or checkpoint) with no checkpoint.

    `entrances`: id, source_id, compound_id, village_id, state, lon, lat, x, y;
    `checkpoints`: id, source_id, active, entrance_id, village_id, lon, lat, x, y.
    """
    active = checkpoints[checkpoints["active"].astype(bool)]
    guarded = set(active["entrance_id"].dropna().astype(np.int64).tolist())
    posts = _frame(
        {
            "id": active["source_id"].astype(str),
            "kind": "checkpoint",
            "lon": active["lon"],
            "lat": active["lat"],
            "x": active["x"],
            "y": active["y"],
            "checkpoint_id": active["id"].astype(float),
            "entrance_id": active["entrance_id"].astype(float),
            "village_id": active["village_id"].astype(float),
        }
    )
    open_ = entrances[entrances["state"].isin(OPEN_STATES) & ~entrances["id"].isin(guarded)]
    gates = _frame(
        {
            "id": open_["source_id"].astype(str),
            "kind": np.where(open_["compound_id"].notna(), "compound_entrance", "village_entrance"),
            "lon": open_["lon"],
            "lat": open_["lat"],
            "x": open_["x"],
            "y": open_["y"],
            "entrance_id": open_["id"].astype(float),
            "village_id": open_["village_id"].astype(float),
        }
    )
    return pd.concat([posts, gates], ignore_index=True)


def _point_id(prefix: str, lonlat: Floats) -> list[str]:
    return [f"{prefix}:{lon:.6f},{lat:.6f}" for lon, lat in lonlat.tolist()]


def road_sites(
    roads_m: Geoms, village_ids: NDArray[np.int64], villages_m: Geoms, epsg: int
) -> pd.DataFrame:
    """Where roads cross a village boundary, and road junctions (3+ ways) inside villages.

    Geometries in metres in `epsg`; a generated site's id is its kind and its position.
    """
    roads = np.asarray(roads_m, dtype=object)
    areas = np.asarray(villages_m, dtype=object)
    if not len(roads) or not len(areas):
        return _frame({})
    boundaries = shapely.boundary(areas)
    tree = shapely.STRtree(roads)
    v, r = tree.query(boundaries, predicate="intersects")
    meets = shapely.intersection(boundaries[v], roads[r])
    points, index = shapely.get_parts(meets, return_index=True)
    is_point = shapely.get_type_id(points) == 0
    cross_xy = shapely.get_coordinates(points[is_point])
    cross_village = village_ids[v[index[is_point]]].astype(float)
    network = RoadNetwork.from_lines(roads)
    degree = np.asarray([network.graph.degree(n) for n in range(len(network.node_xy))])
    junction_xy = network.node_xy[degree >= 3] if len(degree) else np.empty((0, 2))
    inside, holder = shapely.STRtree(areas).query(
        shapely.points(junction_xy), predicate="intersects"
    )
    _, first = np.unique(inside, return_index=True)
    junction_xy, junction_village = (
        junction_xy[inside[first]],
        village_ids[holder[first]].astype(float),
    )
    frames = []
    for kind, xy, village in (
        ("road_crossing", cross_xy, cross_village),
        ("road_junction", junction_xy, junction_village),
    ):
        lonlat = unproject_xy(xy, epsg)
        frames.append(
            _frame(
                {
                    "id": _point_id(kind, lonlat),
                    "kind": kind,
                    "lon": lonlat[:, 0],
                    "lat": lonlat[:, 1],
                    "x": xy[:, 0],
                    "y": xy[:, 1],
                    "village_id": village,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def merge_sites(*frames: pd.DataFrame, same_site_m: float = SAME_SITE_M) -> pd.DataFrame:
    """The candidates of all frames, in order, dropping any within `same_site_m` of an earlier
    one and any repeated id."""
    sites = pd.concat([f for f in frames if len(f)], ignore_index=True)
    if not len(sites):
        return _frame({})
    sites = sites.drop_duplicates("id").reset_index(drop=True)
    xy = sites[["x", "y"]].to_numpy(float)
    pairs = cKDTree(xy).query_pairs(same_site_m, output_type="ndarray")
    drop = np.zeros(len(sites), dtype=bool)
    # Visit pairs by their earlier member: a dropped site drops nothing further.
    for a, b in sorted(map(tuple, pairs.tolist())):
        if not drop[a]:
            drop[b] = True
    return sites[~drop].reset_index(drop=True)


def project_roads_and_villages(
    roads: pd.DataFrame, villages: pd.DataFrame, epsg: int
) -> tuple[Geoms, Geoms]:
    """Roads a post may stand on and village areas (shapely, lon/lat) in metres in `epsg`."""
    post_roads = roads[roads["highway"].isin(POST_ROADS)]
    return (
        project_geoms(np.asarray(post_roads["geometry"], dtype=object), epsg),
        project_geoms(np.asarray(villages["geometry"], dtype=object), epsg),
    )
