"""Contiguous zones of blocks balanced by load: METIS, then repair, then local search.

METIS (pymetis, contiguous) gives K connected parts of near-equal weight. Parts it leaves in
several pieces are repaired: every piece but the heaviest joins the lightest zone it touches.
Then a local search moves one boundary block at a time from the heaviest zone to a lighter
neighbour (or into the lightest zone from a heavier neighbour), never a block whose removal
cuts its zone in two, while the ratio of the heaviest to the lightest zone falls.

A zone's load is `ratio[z] * sum(a) + sum(c)` over its blocks: with `a` a block's street
hours and `c` its stop hours, `ratio` is the zone's route length over its street length
(deadhead), which the caller measures on the zone's postman route and feeds back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pymetis
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

SCALE = 10_000
"""METIS takes whole weights: loads are scaled to this many units per mean block."""


@dataclass
class Loads:
    """Per-block loads `a` (scaled by the zone's ratio) and `c`, and the zones' ratios."""

    a: Floats
    c: Floats
    ratio: Floats = field(default_factory=lambda: np.ones(0))

    def zone_loads(self, zone: Ints, k: int) -> Floats:
        ratio = self.ratio if len(self.ratio) == k else np.ones(k)
        a = np.bincount(zone, weights=self.a, minlength=k)
        c = np.bincount(zone, weights=self.c, minlength=k)
        return np.asarray(ratio * a + c, dtype=float)


def _graph(count: int, pairs: Ints) -> nx.Graph[int]:
    g: nx.Graph[int] = nx.Graph()
    g.add_nodes_from(range(count))
    g.add_edges_from(map(tuple, np.asarray(pairs).tolist()))
    return g


def metis_parts(count: int, pairs: Ints, weight: Floats, k: int, *, shared_m: Floats) -> Ints:
    """K parts from METIS, contiguous where the graph allows it, cutting short boundaries
    (edge weights: the metres of boundary two blocks share), so that zones are compact."""
    if k == 1:
        return np.zeros(count, dtype=np.int64)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    edge = np.concatenate([shared_m, shared_m])
    order = np.lexsort((cols, rows))
    rows, cols, edge = rows[order], cols[order], edge[order]
    xadj = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=count))])
    eweights = np.maximum(np.rint(edge).astype(np.int64), 1)
    mean = float(np.mean(weight)) if count else 1.0
    scaled = np.rint(np.asarray(weight) / max(mean, 1e-12) * SCALE).astype(np.int64) + 1
    connected = nx.is_connected(_graph(count, pairs)) if count else True
    result = pymetis.part_graph(
        k,
        pymetis.CSRAdjacency(xadj.tolist(), cols.tolist()),
        vweights=scaled.tolist(),
        eweights=eweights.tolist(),
        options=pymetis.Options(contig=1 if connected else 0),
    )
    return np.asarray(result[1], dtype=np.int64)


def repair(graph: nx.Graph[int], zone: Ints, loads: Loads, k: int) -> Ints:
    """Every zone one piece: stray pieces join the lightest zone they touch."""
    zone = zone.copy()
    for _ in range(10 * k):
        moved = False
        load = loads.zone_loads(zone, k)
        for z in range(k):
            members = np.flatnonzero(zone == z).tolist()
            pieces = list(nx.connected_components(graph.subgraph(members)))
            if len(pieces) <= 1:
                continue
            pieces.sort(key=lambda p: -float(loads.a[list(p)].sum() + loads.c[list(p)].sum()))
            for piece in pieces[1:]:
                touching = {int(zone[n]) for u in piece for n in graph[u]} - {z}
                if not touching:
                    continue
                target = min(touching, key=lambda t: float(load[t]))
                zone[list(piece)] = target
                moved = True
        if not moved:
            break
    return zone


def _movable(graph: nx.Graph[int], zone: Ints, z: int) -> set[int]:
    members = np.flatnonzero(zone == z).tolist()
    if len(members) <= 1:
        return set()
    cut: set[int] = set(nx.articulation_points(graph.subgraph(members)))
    return set(members) - cut


def _diffuse(graph: nx.Graph[int], zone: Ints, cost: Floats, k: int, rounds: int) -> None:
    """Least sum of squared loads: each round the boundary move that lowers it most, so that
    load flows from heavy zones through their neighbours to light ones."""
    movable: dict[int, set[int]] = {}
    for _ in range(rounds):
        load = np.bincount(zone, weights=cost[np.arange(len(zone)), zone], minlength=k)
        best: tuple[float, int, int] | None = None
        for z in range(k):
            if z not in movable:
                movable[z] = _movable(graph, zone, z)
            for u in movable[z]:
                for t in {int(zone[n]) for n in graph[u]} - {z}:
                    if load[t] >= load[z]:
                        continue
                    lz, lt = load[z] - cost[u, z], load[t] + cost[u, t]
                    delta = float(lz * lz + lt * lt - load[z] ** 2 - load[t] ** 2)
                    if delta < -1e-12 and (best is None or delta < best[0]):
                        best = (delta, u, t)
        if best is None:
            return
        _, u, t = best
        movable.pop(int(zone[u]), None)
        movable.pop(t, None)
        zone[u] = t


def _polish(graph: nx.Graph[int], zone: Ints, cost: Floats, k: int, rounds: int) -> None:
    """Then max/min itself: moves out of the heaviest zone or into the lightest."""
    for _ in range(rounds):
        load = np.bincount(zone, weights=cost[np.arange(len(zone)), zone], minlength=k)
        current = float(load.max() / max(load.min(), 1e-12))
        heavy, light = int(np.argmax(load)), int(np.argmin(load))
        best: tuple[float, int, int] | None = None
        for z in range(k):
            for u in _movable(graph, zone, z) if z == heavy or z != light else ():
                for t in {int(zone[n]) for n in graph[u]} - {z}:
                    if z != heavy and t != light:
                        continue
                    after = load.copy()
                    after[z] -= cost[u, z]
                    after[t] += cost[u, t]
                    score = float(after.max() / max(after.min(), 1e-12))
                    if score < current - 1e-12 and (best is None or score < best[0]):
                        best = (score, u, t)
        if best is None:
            return
        zone[best[1]] = best[2]


def local_search(
    graph: nx.Graph[int], zone: Ints, loads: Loads, k: int, *, rounds: int = 3_000
) -> Ints:
    """Move boundary blocks between neighbouring zones, never cutting a zone in two."""
    zone = zone.copy()
    ratio = loads.ratio if len(loads.ratio) == k else np.ones(k)
    cost = np.asarray(np.outer(loads.a, ratio) + loads.c[:, None], dtype=float)
    _diffuse(graph, zone, cost, k, rounds)
    _polish(graph, zone, cost, k, rounds // 10)
    return zone


def partition(
    count: int,
    pairs: Ints,
    loads: Loads,
    k: int,
    *,
    shared_m: Floats,
    start: Ints | None = None,
) -> Ints:
    """Zones 0..k-1 of the blocks, each one piece where the blocks' graph allows."""
    graph = _graph(count, pairs)
    if start is None:
        weight = loads.a * (loads.ratio.mean() if len(loads.ratio) else 1.0) + loads.c
        zone = metis_parts(count, pairs, weight, k, shared_m=shared_m)
    else:
        zone = start
    zone = repair(graph, zone, loads, k)
    return local_search(graph, zone, loads, k)
