"""The town's walkable graph: every street, and a straight link wherever the streets are apart.

The streets of a town are often in several pieces (roads clipped at the town's edge, a hamlet
whose only road leaves the town). So that any two streets can be joined, each piece is linked
to the rest by the shortest straight line between their nodes, chosen as a minimum spanning
tree over the pieces (Kruskal on nearest-node distances). A link is walked off the road: it
counts in a route's metres like any other deadhead, and is drawn as a straight line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geodata.analysis.patrols.streets import Streets

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

LINK = -1
"""The segment number of an off-road link."""


@dataclass(frozen=True)
class Walkable:
    """The town graph: for each pair of adjacent nodes, the shortest segment (or a link)."""

    streets: Streets
    a: Ints
    b: Ints
    weight_m: Floats
    segment: Ints
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What is built once from the graph and kept (the T-join solver)."""

    def matrix(self) -> csr_matrix:
        n = len(self.streets.node_xy)
        w = np.concatenate([self.weight_m, self.weight_m])
        rows = np.concatenate([self.a, self.b])
        cols = np.concatenate([self.b, self.a])
        return csr_matrix((np.maximum(w, 1e-9), (rows, cols)), shape=(n, n))

    def distances(self, sources: Ints) -> tuple[Floats, Ints]:
        """Metres from each source to every node, and the predecessors along the paths."""
        dist, pred = dijkstra(self.matrix(), indices=np.asarray(sources), return_predecessors=True)
        return np.asarray(dist, float), np.asarray(pred, np.int64)

    def edge_segment(self) -> dict[tuple[int, int], tuple[int, float]]:
        """(node, node) -> (segment or LINK, metres), both orders (built once, kept)."""
        kept = self.cache.get("edge_segment")
        if isinstance(kept, dict):
            return kept
        out: dict[tuple[int, int], tuple[int, float]] = {}
        self.cache["edge_segment"] = out
        for a, b, s, w in zip(
            self.a.tolist(),
            self.b.tolist(),
            self.segment.tolist(),
            self.weight_m.tolist(),
            strict=True,
        ):
            out[(a, b)] = out[(b, a)] = (s, w)
        return out


def _pieces_links(streets: Streets, label: Ints, pieces: int) -> list[tuple[int, int, float]]:
    """A minimum spanning tree over the pieces, each edge the closest pair of their nodes."""
    xy = streets.node_xy
    trees = [cKDTree(xy[label == p]) for p in range(pieces)]
    members = [np.flatnonzero(label == p) for p in range(pieces)]
    g: nx.Graph[int] = nx.Graph()
    g.add_nodes_from(range(pieces))
    for p in range(pieces):
        for q in range(p + 1, pieces):
            small, big = (p, q) if len(members[p]) <= len(members[q]) else (q, p)
            d, i = trees[big].query(xy[members[small]])
            k = int(np.argmin(d))
            pair = (int(members[small][k]), int(members[big][int(np.asarray(i)[k])]))
            g.add_edge(p, q, weight=float(np.asarray(d)[k]), pair=pair)
    links = []
    for _, _, data in nx.minimum_spanning_edges(g, algorithm="kruskal", data=True):
        a, b = data["pair"]
        links.append((a, b, float(data["weight"])))
    return links


def walkable(streets: Streets) -> Walkable:
    """The town graph of these streets, its pieces joined by straight links."""
    n = len(streets.node_xy)
    order = np.lexsort(
        (streets.length_m, np.maximum(streets.u, streets.v), np.minimum(streets.u, streets.v))
    )
    lo = np.minimum(streets.u, streets.v)[order]
    hi = np.maximum(streets.u, streets.v)[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    keep = first & (lo != hi)
    seg = order[keep].astype(np.int64)
    a, b, w = lo[keep], hi[keep], streets.length_m[seg]
    adjacency = csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    pieces, label = connected_components(adjacency, directed=False)
    if pieces > 1:
        links = _pieces_links(streets, np.asarray(label, np.int64), int(pieces))
        la = np.array([x for x, _, _ in links], dtype=np.int64)
        lb = np.array([y for _, y, _ in links], dtype=np.int64)
        lw = np.array([d for _, _, d in links], dtype=float)
        a, b, w = np.concatenate([a, la]), np.concatenate([b, lb]), np.concatenate([w, lw])
        seg = np.concatenate([seg, np.full(len(links), LINK, dtype=np.int64)])
    return Walkable(streets, a.astype(np.int64), b.astype(np.int64), w.astype(float), seg)
