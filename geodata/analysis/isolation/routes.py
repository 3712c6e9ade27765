"""Travel distances from people to isolation sites in metres: along the roads where a route
exists, in a straight line where none does.

A route runs as the checkpoints' reach does (`geodata.analysis.coverage.network`): straight
from the person to the nearest road node, along the roads (Dijkstra from each site's nearest
node), straight from that node to the site. Its length is thus never below the straight
distance. Where the person's node and the site's node are not connected, or there are no
roads, the distance is the straight one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geodata.analysis.coverage.network import RoadNetwork
from geodata.analysis.placement.reach_matrix import road_graph

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


@dataclass(frozen=True)
class Distances:
    """`metres`: people × sites; `by_road`: where the figure is a route along the roads
    (False: straight); inf where a person has no location (NaN coordinates)."""

    metres: Floats
    by_road: Bools


def _points(xy: Floats) -> Floats:
    return np.asarray(xy, dtype=np.float64).reshape(-1, 2)


def straight_m(people_xy: Floats, sites_xy: Floats) -> Floats:
    """People × sites straight distances (metric coordinates); inf for a person without a
    location."""
    people, sites = _points(people_xy), _points(sites_xy)
    diff = people[:, None, :] - sites[None, :, :]
    metres = np.hypot(diff[..., 0], diff[..., 1])
    metres[np.isnan(metres)] = np.inf
    return np.asarray(metres, dtype=np.float64)


def travel_m(people_xy: Floats, sites_xy: Floats, network: RoadNetwork | None) -> Distances:
    """Along the roads when `network` has nodes, else (and where no route joins the two)
    straight. Coordinates in the network's metric CRS; a person at NaN reaches nothing."""
    people, sites = _points(people_xy), _points(sites_xy)
    straight = straight_m(people, sites)
    by_road = np.zeros(straight.shape, dtype=np.bool_)
    if network is None or not len(network.node_xy) or not len(people) or not len(sites):
        return Distances(straight, by_road)
    located = np.flatnonzero(np.all(np.isfinite(people), axis=1))
    tree = cKDTree(network.node_xy)
    site_found = tree.query(sites)
    site_snap = np.asarray(site_found[0], dtype=np.float64)
    site_node = np.asarray(site_found[1], dtype=np.int64)
    metres = straight.copy()
    if len(located):
        person_found = tree.query(people[located])
        person_snap = np.asarray(person_found[0], dtype=np.float64)
        person_node = np.asarray(person_found[1], dtype=np.int64)
        sources, source_of_site = np.unique(site_node, return_inverse=True)
        along = np.asarray(
            dijkstra(road_graph(network), directed=False, indices=sources), dtype=np.float64
        ).reshape(len(sources), -1)
        route = (
            along[source_of_site.ravel()][:, person_node].T
            + person_snap[:, None]
            + site_snap[None, :]
        )
        reached = np.isfinite(route)
        block = metres[located]
        block[reached] = route[reached]
        metres[located] = block
        by_road[located] = reached
    return Distances(metres, by_road)
