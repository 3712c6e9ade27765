"""Which sites reach which demand points: a sparse boolean matrix (demand × sites).

Built from trees (never a dense demand × sites loop): a pair of KD-trees in straight line,
a bounded Dijkstra from each site along the roads, or a given cost matrix. A point is reached
when the distance is at most the radius (the boundary counts).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geodata.analysis.coverage.network import RoadNetwork

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

SITES_PER_SWEEP = 256
"""Sites whose road distances are held at once (a sites × nodes block of floats)."""
CELLS_PER_SWEEP = 4_000_000
"""At most this many site × demand distances held at once."""


def _within(distance: Floats, radius_m: float) -> NDArray[np.bool_]:
    # The boundary counts; allow for the rounding of projected coordinates.
    return np.asarray(distance <= radius_m * (1 + 1e-12) + 1e-9)


def _matrix(rows: Ints, cols: Ints, shape: tuple[int, int]) -> sp.csr_array:
    data = np.ones(len(rows), dtype=np.int8)
    matrix = sp.csr_array((data, (rows, cols)), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1
    matrix.sort_indices()
    return matrix


def _check_radius(radius_m: float) -> None:
    if not (np.isfinite(radius_m) and radius_m > 0):
        raise ValueError("radius_m must be a positive number of metres")


def straight_coverage(demand_xy: Floats, sites_xy: Floats, radius_m: float) -> sp.csr_array:
    """Demand points (metres, (n, 2)) within `radius_m` of each site (metres, (m, 2))."""
    _check_radius(radius_m)
    demand = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    sites = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
    shape = (len(demand), len(sites))
    if not len(demand) or not len(sites):
        return _matrix(np.empty(0, np.int64), np.empty(0, np.int64), shape)
    pairs = cKDTree(demand).sparse_distance_matrix(
        cKDTree(sites), radius_m * (1 + 1e-9) + 1e-6, output_type="ndarray"
    )
    keep = _within(np.asarray(pairs["v"], dtype=float), radius_m)
    return _matrix(
        np.asarray(pairs["i"][keep], np.int64), np.asarray(pairs["j"][keep], np.int64), shape
    )


def cost_matrix_coverage(costs: Floats, radius_m: float) -> sp.csr_array:
    """Reach from a given demand × sites cost matrix (NaN: no route)."""
    _check_radius(radius_m)
    costs = np.asarray(costs, dtype=float)
    rows, cols = np.nonzero(np.nan_to_num(costs, nan=np.inf) <= radius_m)
    return _matrix(rows.astype(np.int64), cols.astype(np.int64), costs.shape)


def network_coverage(
    network: RoadNetwork, demand_xy: Floats, sites_xy: Floats, radius_m: float
) -> sp.csr_array:
    """Reach along the roads, as the coverage figures define it.

    A route runs straight from the point to its nearest road node, along the roads, then
    straight from the site's nearest node to the site.
    """
    _check_radius(radius_m)
    demand = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    sites = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
    shape = (len(demand), len(sites))
    n_nodes = len(network.node_xy)
    if not len(demand) or not len(sites) or not n_nodes:
        return _matrix(np.empty(0, np.int64), np.empty(0, np.int64), shape)
    tree = cKDTree(network.node_xy)
    pt_snap, pt_node = tree.query(demand)
    site_snap, site_node = tree.query(sites)
    pt_snap, pt_node = np.asarray(pt_snap, float), np.asarray(pt_node, np.int64)
    site_snap, site_node = np.asarray(site_snap, float), np.asarray(site_node, np.int64)
    graph = road_graph(network)
    # Demand points per node: a sweep reads the nodes that carry demand, then the points.
    used_nodes, node_pos = np.unique(pt_node, return_inverse=True)
    block_size = max(1, min(SITES_PER_SWEEP, CELLS_PER_SWEEP // max(len(demand), 1)))
    rows: list[Ints] = []
    cols: list[Ints] = []
    for start in range(0, len(sites), block_size):
        block = np.arange(start, min(start + block_size, len(sites)))
        block = block[site_snap[block] <= radius_m]
        if not len(block):
            continue
        sources, source_pos = np.unique(site_node[block], return_inverse=True)
        dist = dijkstra(graph, directed=False, indices=sources, limit=radius_m * (1 + 1e-9))
        at_nodes = np.asarray(dist, dtype=float).reshape(len(sources), -1)[:, used_nodes]
        route = at_nodes[source_pos][:, node_pos] + pt_snap[None, :] + site_snap[block][:, None]
        site_k, point = np.nonzero(_within(route, radius_m))
        rows.append(point.astype(np.int64))
        cols.append(block[site_k].astype(np.int64))
    if not rows:
        return _matrix(np.empty(0, np.int64), np.empty(0, np.int64), shape)
    return _matrix(np.concatenate(rows), np.concatenate(cols), shape)


def road_graph(network: RoadNetwork) -> sp.csr_array:
    """The road network as a sparse matrix of edge lengths (metres)."""
    n = len(network.node_xy)
    triples: list[tuple[int, int, float]] = list(network.graph.edges(data="weight"))
    heads = np.fromiter((t[0] for t in triples), dtype=np.int64, count=len(triples))
    tails = np.fromiter((t[1] for t in triples), dtype=np.int64, count=len(triples))
    lengths = np.fromiter((float(t[2]) for t in triples), dtype=np.float64, count=len(triples))
    return sp.csr_array(sp.coo_array((lengths, (heads, tails)), shape=(n, n)))
