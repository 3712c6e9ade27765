"""Checkpoint reach along the roads: a graph of the road layer and multi-source Dijkstra.

Road vertices are snapped to a grid of SNAP_M metres and become the nodes; each pair of
consecutive vertices is an edge weighted by the straight length between its two nodes. A
point enters the network at its nearest node, in a straight line. Every route is thus a
polyline from the point to the checkpoint, so its length is never shorter than the straight
distance between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Geoms = NDArray[np.object_]

SNAP_M = 0.5
"""Road vertices closer than about this are one node (where ways meet without a shared vertex)."""

_SOURCE = -1


@dataclass(frozen=True)
class RoadNetwork:
    """The road graph (nodes numbered 0..n-1) and each node's position in metres."""

    graph: nx.Graph[int]
    node_xy: Floats

    @classmethod
    def from_lines(cls, lines_m: Geoms, *, snap_m: float = SNAP_M) -> RoadNetwork:
        """The network of road lines given in a metric CRS."""
        lines = np.asarray(lines_m, dtype=object)
        coords, line_index = shapely.get_coordinates(lines, return_index=True)
        if len(coords) == 0:
            empty: nx.Graph[int] = nx.Graph()
            return cls(empty, np.empty((0, 2)))
        cells = np.round(coords / snap_m).astype(np.int64)
        _, first, node_of = np.unique(cells, axis=0, return_index=True, return_inverse=True)
        node_of = node_of.ravel()
        node_xy = np.round(coords[first] / snap_m) * snap_m
        same_line = line_index[1:] == line_index[:-1]
        a, b = node_of[:-1][same_line], node_of[1:][same_line]
        keep = a != b
        a, b = a[keep], b[keep]
        length = np.hypot(*(node_xy[a] - node_xy[b]).T)
        graph: nx.Graph[int] = nx.Graph()
        graph.add_nodes_from(range(len(node_xy)))
        graph.add_weighted_edges_from(zip(a.tolist(), b.tolist(), length.tolist(), strict=True))
        return cls(graph, node_xy)


def network_margin_m(
    network: RoadNetwork, points_xy: Floats, checkpoints_xy: Floats, radii_m: Floats
) -> Floats:
    """For each point, min over checkpoints of (route length - the checkpoint's radius).

    A point is reached along the roads where this is <= 0; +inf where no checkpoint's route
    is within its radius. Routes: straight to the nearest node, along the roads, straight
    from the checkpoint's nearest node.
    """
    margin = np.full(len(points_xy), np.inf)
    if len(points_xy) == 0 or len(checkpoints_xy) == 0 or len(network.node_xy) == 0:
        return margin
    radii = np.asarray(radii_m, dtype=float)
    tree = cKDTree(network.node_xy)
    cp_found = tree.query(checkpoints_xy)
    pt_found = tree.query(points_xy)
    cp_snap, cp_node = np.asarray(cp_found[0], float), np.asarray(cp_found[1], np.int64)
    pt_snap, pt_node = np.asarray(pt_found[0], float), np.asarray(pt_found[1], np.int64)
    # One virtual source joined to each checkpoint's node by (snap - radius + budget) >= 0:
    # its distance to a node, less the budget, is min over checkpoints of (route - radius).
    budget = float(np.max(radii))
    graph = network.graph.copy()
    offsets: dict[int, float] = {}
    for node, offset in zip(cp_node.tolist(), (cp_snap - radii + budget).tolist(), strict=True):
        offsets[node] = min(offset, offsets.get(node, np.inf))
    graph.add_weighted_edges_from((_SOURCE, node, w) for node, w in offsets.items())
    dist = nx.single_source_dijkstra_path_length(graph, _SOURCE, cutoff=budget, weight="weight")
    node_margin = np.full(len(network.node_xy), np.inf)
    nodes = np.fromiter((n for n in dist if n != _SOURCE), dtype=np.int64)
    node_margin[nodes] = np.fromiter((dist[int(n)] for n in nodes), dtype=float) - budget
    margin = node_margin[pt_node] + pt_snap
    return np.asarray(margin, dtype=float)


def network_reached(
    network: RoadNetwork, points_xy: Floats, checkpoints_xy: Floats, radii_m: Floats
) -> Bools:
    """Whether each point is within its radius of some checkpoint along the roads."""
    return np.asarray(network_margin_m(network, points_xy, checkpoints_xy, radii_m) <= 0)
