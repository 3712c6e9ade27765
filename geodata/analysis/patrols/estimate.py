"""A zone's route length estimated in about a millisecond, without solving its postman route.

route ≈ street metres + MATCH × (half the sum, over the zone's odd-degree street nodes, of
the metres to the nearest other odd node of the zone) + JOIN × (the metres of a minimum
spanning tree joining the pieces of the zone's streets). Distances are along the town's
walkable graph, looked up in each node's NEAREST closest nodes (found once per town by
Dijkstra bounded at REACH median segments); an odd node, or a group of pieces, with nothing
among them is measured along the whole graph.

The half sum of nearest distances is a lower bound of a minimum matching; an odd node's walk
to its nearest odd node and back (MATCH = 2) and a piece walked to and back (JOIN = 2) are
round figures, not fitted to a town. The estimate balances zones; each zone's route is then
measured once, exactly (`postman.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from geodata.analysis.patrols.walkable import Walkable

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

NEAREST = 24
REACH = 20.0
MATCH = 2.0
JOIN = 2.0
CHUNK = 512
LONGEST = 50.0
"""An odd node with no other one within this many bounds counts this many (a piece the town
graph does not reach)."""


@dataclass(frozen=True)
class RouteEstimate:
    """Each street node's nearest nodes along the town graph, and the street segments."""

    u: Ints
    v: Ints
    length_m: Floats
    graph: csr_matrix
    near: Ints
    near_m: Floats
    bound_m: float
    edge_a: Ints
    edge_b: Ints
    edge_m: Floats

    @classmethod
    def build(cls, net: Walkable) -> RouteEstimate:
        st = net.streets
        n = len(st.node_xy)
        bound = REACH * float(np.median(st.length_m)) if st.count else 1.0
        width = min(NEAREST, max(n - 1, 0))
        near = np.zeros((n, width), dtype=np.int64)
        near_m = np.full((n, width), np.inf)
        matrix = net.matrix()
        for first in range(0, n if width else 0, CHUNK):
            rows = np.arange(first, min(n, first + CHUNK))
            dist = np.asarray(dijkstra(matrix, indices=rows, limit=bound), dtype=float)
            dist[np.arange(len(rows)), rows] = np.inf  # not itself
            idx = np.argpartition(dist, width - 1, axis=1)[:, :width]
            d = np.take_along_axis(dist, idx, axis=1)
            order = np.argsort(d, axis=1, kind="stable")
            near[rows] = np.take_along_axis(idx, order, axis=1)
            near_m[rows] = np.take_along_axis(d, order, axis=1)  # inf: out of reach
        edges = matrix.tocoo()
        return cls(
            st.u,
            st.v,
            st.length_m,
            matrix,
            near,
            near_m,
            bound,
            edges.row.astype(np.int64),
            edges.col.astype(np.int64),
            np.asarray(edges.data, dtype=float),
        )

    def route_m(self, segments: Bools) -> float:
        """Estimated route metres of a zone whose street segments are marked."""
        u, v = self.u[segments], self.v[segments]
        if len(u) == 0:
            return 0.0
        n = len(self.near)
        degree = np.bincount(np.concatenate([u, v]), minlength=n)
        odd = np.flatnonzero(degree % 2)
        half = 0.0
        if len(odd) > 1:
            hit = ((degree[self.near[odd]] % 2) == 1) & np.isfinite(self.near_m[odd])
            found = hit.any(axis=1)
            nearest = self.near_m[odd, hit.argmax(axis=1)]
            if not found.all():  # out of reach of the lists: along the town graph
                nearest[~found] = self._nearest_other(odd)[~found]
            half = 0.5 * float(np.minimum(nearest, self.bound_m * LONGEST).sum())
        return (
            float(self.length_m[segments].sum()) + MATCH * half + JOIN * self._join_m(u, v, degree)
        )

    def _nearest_other(self, nodes: Ints) -> Floats:
        """Each node's metres to the nearest other of them along the town graph, from one
        Dijkstra from all of them: a shortest path from a node to its nearest other leaves
        the node's region (the nodes nearest it) by an edge into another's, so the least
        (own side, edge, other side) over the edges out of its region is that distance."""
        dist, _, source = dijkstra(
            self.graph, indices=nodes, min_only=True, return_predecessors=True
        )
        a, b = self.edge_a, self.edge_b  # both directions of every edge
        cross = (source[a] >= 0) & (source[b] >= 0) & (source[a] != source[b])
        best = np.full(len(self.near), np.inf)
        np.minimum.at(best, source[a[cross]], dist[a[cross]] + self.edge_m[cross] + dist[b[cross]])
        return np.asarray(best[nodes], dtype=float)

    def _join_m(self, u: Ints, v: Ints, degree: Ints) -> float:
        """A minimum spanning tree over the pieces of these streets, on the nearest-node
        distances between them; groups of pieces out of each other's reach are joined along
        the whole graph."""
        nodes = np.flatnonzero(degree > 0)
        local = np.full(len(self.near), -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        m = len(nodes)
        adjacency = csr_matrix((np.ones(len(u)), (local[u], local[v])), shape=(m, m))
        count, found = connected_components(adjacency, directed=False)
        piece = found.astype(np.int64)
        if count <= 1:
            return 0.0
        label = np.full(len(self.near), -1, dtype=np.int64)
        label[nodes] = piece
        near = self.near[nodes]
        other = (label[near] >= 0) & (label[near] != piece[:, None])
        other &= np.isfinite(self.near_m[nodes])
        row, col = np.nonzero(other)
        tree, group = _spanning_forest(
            int(count), piece[row], label[near[row, col]], self.near_m[nodes[row], col]
        )
        groups = int(group.max()) + 1
        if groups <= 1:
            return tree
        # groups of pieces out of each other's reach: a spanning tree over the groups on
        # their distances along the town graph
        return tree + self._groups_tree_m(nodes, group[piece], groups)

    def _groups_tree_m(self, nodes: Ints, of_node: Ints, groups: int) -> float:
        """The minimum spanning tree over groups of nodes, on their distances along the town
        graph, from one Dijkstra from all of them (Mehlhorn, 1988): each node takes the
        group of its nearest source, and each edge between two groups' regions gives a
        path between the groups (the region of one, the edge, the region of the other). The
        tree over the shortest of these is a tree of the complete distance graph."""
        dist, _, source = dijkstra(
            self.graph, indices=nodes, min_only=True, return_predecessors=True
        )
        of = np.full(len(self.near), -1, dtype=np.int64)
        of[nodes] = of_node
        region = np.where(source >= 0, of[np.maximum(source, 0)], -1)
        a, b = region[self.edge_a], region[self.edge_b]
        cross = (a >= 0) & (b >= 0) & (a != b)
        metres = dist[self.edge_a[cross]] + self.edge_m[cross] + dist[self.edge_b[cross]]
        return _spanning_forest(groups, a[cross], b[cross], metres)[0]


def _spanning_forest(count: int, a: Ints, b: Ints, metres: Floats) -> tuple[float, Ints]:
    """Kruskal's minimum spanning forest of nodes 0..count-1 over the edges (a, b, metres):
    its metres, and each node's tree (0..trees-1). Only the shortest edge between two nodes
    is kept first; the nodes (a zone's pieces of streets) are few, so no sparse matrix is
    built for them."""
    metres = np.maximum(np.asarray(metres, dtype=float), 1e-6)
    key = np.minimum(a, b) * count + np.maximum(a, b)
    order = np.lexsort((metres, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    pick = order[first]
    pick = pick[np.argsort(metres[pick], kind="stable")]
    parent = list(range(count))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    total, joined = 0.0, 0
    for x, y, m in zip(a[pick].tolist(), b[pick].tolist(), metres[pick].tolist(), strict=True):
        rx, ry = root(x), root(y)
        if rx != ry:
            parent[rx] = ry
            total += m
            joined += 1
            if joined == count - 1:
                break
    roots = np.array([root(x) for x in range(count)], dtype=np.int64)
    return total, np.unique(roots, return_inverse=True)[1].astype(np.int64)
