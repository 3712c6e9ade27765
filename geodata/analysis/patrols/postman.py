"""The shortest closed walk from a station along every street segment of a zone.

Chinese postman: the odd-degree nodes of the zone's segments are paired at the least total
metres along the town graph (a minimum T-join, solved exactly by sparse blossom: `tjoin.py`),
the pairing's edges are added as deadhead, and an Eulerian circuit of the result is the
walk.

Where the zone's segments (and the station) are in several pieces this is the rural postman
problem, NP-hard. The pieces are first joined by the shortest paths of a minimum spanning
tree over piece-to-piece shortest-path distances (through the whole town's graph), added
once as deadhead; the postman is then exact on that augmented graph. The tree is a choice,
not a proof of optimality: the reported reference is the exact postman length of the
segments the walk traverses, joined the same way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from geodata.analysis.patrols.tjoin import TJoinSolver
from geodata.analysis.patrols.walkable import Walkable

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Step:
    """One traversal: from a node to a node along a segment (or LINK), required or deadhead."""

    a: int
    b: int
    segment: int
    metres: float
    required: bool


@dataclass(frozen=True)
class Tour:
    """A closed walk from `start` and back."""

    start: int
    steps: tuple[Step, ...]
    street_m: float
    segments: int
    matching_gap_m: float = 0.0
    """Metres the pairing of odd nodes may be over the optimum (a bound from the rounding of
    the weights the exact solver takes: `tjoin.py`)."""

    @property
    def route_m(self) -> float:
        return float(sum(s.metres for s in self.steps))

    @property
    def covered(self) -> frozenset[int]:
        return frozenset(s.segment for s in self.steps if s.required)


def _add_path(
    multi: nx.MultiGraph[int], nodes: list[int], edges: dict[tuple[int, int], tuple[int, float]]
) -> None:
    for x, y in itertools.pairwise(nodes):
        seg, w = edges[(x, y)]
        multi.add_edge(x, y, weight=w, segment=seg, required=False)


def _join_pieces(
    multi: nx.MultiGraph[int], net: Walkable, edges: dict[tuple[int, int], tuple[int, float]]
) -> None:
    nodes = np.array(sorted(multi.nodes), dtype=np.int64)
    index = {int(n): i for i, n in enumerate(nodes.tolist())}
    rows = [index[a] for a, _ in multi.edges()]
    cols = [index[b] for _, b in multi.edges()]
    from scipy.sparse import csr_matrix

    adjacency = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(nodes), len(nodes)))
    pieces, label = connected_components(adjacency, directed=False)
    if pieces <= 1:
        return
    matrix = net.matrix()
    from scipy.sparse.csgraph import dijkstra

    tree: nx.Graph[int] = nx.Graph()
    preds: dict[int, tuple[Ints, Floats]] = {}
    for p in range(int(pieces)):
        members = nodes[label == p]
        dist, pred, _ = dijkstra(matrix, indices=members, return_predecessors=True, min_only=True)
        preds[p] = (np.asarray(pred, np.int64), np.asarray(dist, float))
        for q in range(p + 1, int(pieces)):
            other = nodes[label == q]
            k = int(np.argmin(dist[other]))
            tree.add_edge(p, q, weight=float(dist[other][k]), end=int(other[k]))
    for p, q, data in nx.minimum_spanning_edges(tree, algorithm="kruskal", data=True):
        tree_pred = preds[min(p, q)][0]
        path = [int(data["end"])]
        while int(tree_pred[path[-1]]) >= 0:
            path.append(int(tree_pred[path[-1]]))
        _add_path(multi, path[::-1], edges)


def tjoin_solver(net: Walkable) -> TJoinSolver:
    """The town graph's T-join solver, built once and kept with the graph."""
    solver = net.cache.get("tjoin")
    if not isinstance(solver, TJoinSolver):
        solver = net.cache["tjoin"] = TJoinSolver(net)
    return solver


def _augmented(net: Walkable, segments: Ints, start: int) -> tuple[nx.MultiGraph[int], float]:
    """The zone's segments, the joins of their pieces and the pairing of odd nodes: a graph
    with every node of even degree; and the pairing's bound over the optimum."""
    streets = net.streets
    edges = net.edge_segment()
    multi: nx.MultiGraph[int] = nx.MultiGraph()
    multi.add_node(int(start))
    for seg in np.asarray(segments, dtype=np.int64).tolist():
        multi.add_edge(
            int(streets.u[seg]),
            int(streets.v[seg]),
            weight=float(streets.length_m[seg]),
            segment=seg,
            required=True,
        )
    _join_pieces(multi, net, edges)
    odd = np.array(sorted(n for n, d in multi.degree() if d % 2), dtype=np.int64)
    join = tjoin_solver(net).solve(odd)
    for a, b in join.edges:
        _add_path(multi, [a, b], edges)
    return multi, join.gap_m


def postman_length(net: Walkable, segments: Ints, start: int) -> tuple[float, float]:
    """The postman route's metres from node `start` along every given segment, and the
    pairing's bound over the optimum, without walking the route out."""
    multi, gap_m = _augmented(net, segments, start)
    return float(sum(float(d["weight"]) for _, _, d in multi.edges(data=True))), gap_m


def postman_tour(net: Walkable, segments: Ints, start: int) -> Tour:
    """The closed walk from node `start` along every given segment (numbers in net.streets)."""
    streets = net.streets
    multi, gap_m = _augmented(net, segments, start)
    steps: list[Step] = []
    if multi.number_of_edges():
        for a, b, key in nx.eulerian_circuit(multi, source=int(start), keys=True):
            data = multi.edges[a, b, key]
            steps.append(
                Step(
                    int(a),
                    int(b),
                    int(data["segment"]),
                    float(data["weight"]),
                    bool(data["required"]),
                )
            )
    required = np.asarray(segments, dtype=np.int64)
    return Tour(
        start=int(start),
        steps=tuple(steps),
        street_m=float(streets.length_m[required].sum()),
        segments=len(required),
        matching_gap_m=gap_m,
    )
