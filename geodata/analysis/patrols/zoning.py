"""Contiguous, compact zones of blocks balanced by load: METIS, repair, then local search.

METIS (pymetis, contiguous) gives K connected parts of near-equal weight, cutting short
boundaries. Parts it leaves in several pieces are repaired: every piece but the heaviest joins
the lightest zone it touches. METIS runs again RESEED times on the blocks weighed by their
zone's load over weight (kept when max/min falls). Then a local search moves one boundary
block at a time to a neighbouring zone, never a block whose removal cuts its zone in two:

1. spread: while the sum of squared loads (relative to the mean) plus a boundary term falls,
   so that load flows from heavy zones through their neighbours to light ones;
2. polish: while the heaviest over the lightest zone falls;
3. smooth: the moves that raise the two zones' Polsby-Popper most (each zone's perimeter and
   area kept from its blocks' and what they share), while max/min stays within SMOOTH_SLACK
   or the figure reached;
4. polish again.

A zone's load comes from `evaluate` (the caller's: e.g. an estimated route, not additive over
blocks). Moves are ranked by an additive stand-in (a block's weight times its zone's load
over weight) and each one taken is checked on `evaluate`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import networkx as nx
import numpy as np
import pymetis
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Evaluate = Callable[[Ints, Sequence[int]], Floats]
"""The loads of the given zones under a partition (each block's zone)."""

SCALE = 10_000
"""METIS takes whole weights: loads are scaled to this many units per mean block."""

BOUNDARY = 1.0
"""Weight of the zones' boundary (relative to the mean block's perimeter times blocks per
zone) against the squared loads in the spread."""

TRIES = 6
"""Moves checked on `evaluate` per step of smoothing before it gives up on a step."""

RESEED = 3
"""Times METIS runs again on blocks weighed by their zone's load over weight."""

SMOOTH_SLACK = 1.07
"""Smoothing keeps max/min within this or the max/min reached, whichever is larger."""


@dataclass(frozen=True)
class Blocks:
    """The block graph: neighbours with the metres of boundary they share, perimeters."""

    neighbours: list[list[int]]
    shared_m: list[list[float]]
    perimeter_m: Floats
    area_m2: Floats

    @classmethod
    def of(
        cls, count: int, pairs: Ints, shared_m: Floats, perimeter_m: Floats, area_m2: Floats
    ) -> Blocks:
        nbrs: list[list[int]] = [[] for _ in range(count)]
        shared: list[list[float]] = [[] for _ in range(count)]
        for (a, b), s in zip(
            np.asarray(pairs).reshape(-1, 2).tolist(), np.asarray(shared_m).tolist(), strict=True
        ):
            nbrs[a].append(b)
            nbrs[b].append(a)
            shared[a].append(s)
            shared[b].append(s)
        return cls(
            nbrs, shared, np.asarray(perimeter_m, dtype=float), np.asarray(area_m2, dtype=float)
        )

    def graph(self) -> nx.Graph[int]:
        g: nx.Graph[int] = nx.Graph()
        g.add_nodes_from(range(len(self.neighbours)))
        for a, nb in enumerate(self.neighbours):
            g.add_edges_from((a, b) for b in nb if a < b)
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
    g: nx.Graph[int] = nx.Graph()
    g.add_nodes_from(range(count))
    g.add_edges_from((int(a), int(b)) for a, b in pairs.tolist())
    connected = nx.is_connected(g) if count else True
    result = pymetis.part_graph(
        k,
        pymetis.CSRAdjacency(xadj.tolist(), cols.tolist()),
        vweights=scaled.tolist(),
        eweights=eweights.tolist(),
        options=pymetis.Options(contig=1 if connected else 0),
    )
    return np.asarray(result[1], dtype=np.int64)


def repair(graph: nx.Graph[int], zone: Ints, weight: Floats, k: int) -> Ints:
    """Every zone one piece: stray pieces join the lightest zone they touch."""
    zone = zone.copy()
    for _ in range(10 * k):
        moved = False
        load = np.bincount(zone, weights=weight, minlength=k)
        for z in range(k):
            members = np.flatnonzero(zone == z).tolist()
            pieces = list(nx.connected_components(graph.subgraph(members)))
            if len(pieces) <= 1:
                continue
            pieces.sort(key=lambda p: -float(weight[list(p)].sum()))
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


class Search:
    """Local search state: each block's zone, the zones' loads, weights and boundaries."""

    def __init__(
        self,
        blocks: Blocks,
        zone: Ints,
        k: int,
        evaluate: Evaluate,
        weight: Floats,
        *,
        deadline: float,
    ) -> None:
        self.blocks, self.k, self.evaluate = blocks, k, evaluate
        self.graph = blocks.graph()
        self.zone = np.asarray(zone, dtype=np.int64).copy()
        self.weight = np.maximum(np.asarray(weight, dtype=float), 0.0)
        self.deadline = deadline
        self.load = np.asarray(evaluate(self.zone, range(k)), dtype=float)
        self.base = np.bincount(self.zone, weights=self.weight, minlength=k)
        self.cut_unit = float(blocks.perimeter_m.mean()) * len(zone) / max(k, 1) ** 0.5
        self._movable: dict[int, set[int]] = {}
        # each zone's outline: perimeter = its blocks' perimeters less twice what they share
        self.area = np.bincount(self.zone, weights=blocks.area_m2, minlength=k)
        self.perimeter = np.bincount(self.zone, weights=blocks.perimeter_m, minlength=k)
        for a, (nb, sh) in enumerate(zip(blocks.neighbours, blocks.shared_m, strict=True)):
            for b, m in zip(nb, sh, strict=True):
                if a < b and self.zone[a] == self.zone[b]:
                    self.perimeter[self.zone[a]] -= 2.0 * m
        self.version = [0] * k
        self._moves: dict[int, list[tuple[int, int, int, float]]] = {}
        self.failed: set[tuple[int, int, int, int, int]] = set()
        self.phase = 0

    def late(self) -> bool:
        return time.perf_counter() > self.deadline

    def ratio(self, z: int) -> float:
        return float(self.load[z] / self.base[z]) if self.base[z] > 0 else 1.0

    def movable(self, z: int) -> set[int]:
        if z not in self._movable:
            members = np.flatnonzero(self.zone == z).tolist()
            cut = set(nx.articulation_points(self.graph.subgraph(members)))
            self._movable[z] = set() if len(members) <= 1 else set(members) - cut
        return self._movable[z]

    def shared_with(self, u: int) -> dict[int, float]:
        out: dict[int, float] = {}
        for b, s in zip(self.blocks.neighbours[u], self.blocks.shared_m[u], strict=True):
            zb = int(self.zone[b])
            out[zb] = out.get(zb, 0.0) + s
        return out

    def moves(self, zones: Sequence[int]) -> list[tuple[int, int, int, float]]:
        """Boundary moves (block, from, to, boundary metres added) out of these zones."""
        out = []
        for z in zones:
            if z not in self._moves:
                found: list[tuple[int, int, int, float]] = []
                for u in self.movable(z):
                    shared = self.shared_with(u)
                    own = shared.get(z, 0.0)
                    found.extend((u, z, t, 2.0 * (own - s)) for t, s in shared.items() if t != z)
                self._moves[z] = found
            out.extend(self._moves[z])
        return out

    def trial(self, u: int, t: int) -> Floats:
        """The loads after moving block u to zone t (not kept)."""
        z = int(self.zone[u])
        self.zone[u] = t
        try:
            after = self.load.copy()
            after[[z, t]] = self.evaluate(self.zone, [z, t])
        finally:
            self.zone[u] = z
        return after

    def take(self, u: int, t: int, after: Floats) -> None:
        z = int(self.zone[u])
        shared = self.shared_with(u)
        self.perimeter[z] += 2.0 * shared.get(z, 0.0) - self.blocks.perimeter_m[u]
        self.perimeter[t] += self.blocks.perimeter_m[u] - 2.0 * shared.get(t, 0.0)
        self.area[z] -= self.blocks.area_m2[u]
        self.area[t] += self.blocks.area_m2[u]
        self.zone[u] = t
        self.load = after
        self.base[z] -= self.weight[u]
        self.base[t] += self.weight[u]
        self._movable.pop(z, None)
        self._movable.pop(t, None)
        self.version[z] += 1
        self.version[t] += 1
        for y in {z, t} | {int(self.zone[b]) for b in self.blocks.neighbours[u]}:
            self._moves.pop(y, None)

    def spread_score(self, load: Floats) -> float:
        mean = max(float(load.mean()), 1e-12)
        return float(((load / mean - 1.0) ** 2).sum())

    def spread(self, rounds: int) -> None:
        self.phase += 1
        for _ in range(rounds):
            if self.late():
                return
            current = self.spread_score(self.load)
            mean = max(float(self.load.mean()), 1e-12)
            ranked = []
            for u, z, t, added in self.moves(range(self.k)):
                if self.load[t] >= self.load[z]:
                    continue
                w = self.weight[u]
                lz = self.load[z] - w * self.ratio(z)
                lt = self.load[t] + w * self.ratio(t)
                gain = ((lz / mean - 1) ** 2 + (lt / mean - 1) ** 2) - (
                    (self.load[z] / mean - 1) ** 2 + (self.load[t] / mean - 1) ** 2
                )
                score = gain + BOUNDARY * added / self.cut_unit * current / self.k
                if score < 0:
                    ranked.append((score, added, u, t))
            if not self._take_best(ranked, self._spread_ok):
                return

    def _spread_ok(self, after: Floats, added: float) -> bool:
        current = self.spread_score(self.load)
        penalty = BOUNDARY * added / self.cut_unit * current / self.k
        return bool(self.spread_score(after) + penalty < current - 1e-12)

    def _take_best(
        self, ranked: list[tuple[float, float, int, int]], ok: Callable[[Floats, float], bool]
    ) -> bool:
        """Check the moves best first on `evaluate`, take the first that passes `ok`. A move
        that failed is not checked again while its two zones stay as they were."""
        ranked.sort()
        for _, added, u, t in ranked:
            z = int(self.zone[u])
            key = (u, t, self.version[z], self.version[t], self.phase)
            if key in self.failed:
                continue
            if self.late():
                return False
            after = self.trial(u, t)
            if ok(after, added):
                self.take(u, t, after)
                return True
            self.failed.add(key)
        return False

    def spread_ratio(self, load: Floats) -> float:
        return float(load.max() / max(float(load.min()), 1e-12))

    def polish(self, rounds: int) -> None:
        self.phase += 1
        for _ in range(rounds):
            if self.late():
                return
            current = self.spread_ratio(self.load)
            heavy, light = int(np.argmax(self.load)), int(np.argmin(self.load))
            ranked = []
            zones = [heavy] + [z for z in range(self.k) if z not in (heavy, light)]
            for u, z, t, added in self.moves(zones):
                if z != heavy and t != light:
                    continue
                after = self.load.copy()
                after[z] -= self.weight[u] * self.ratio(z)
                after[t] += self.weight[u] * self.ratio(t)
                score = self.spread_ratio(after)
                if score < current:
                    ranked.append((score + 1e-3 * added / self.cut_unit, added, u, t))
            if not self._take_best(ranked, partial(self._lower_ratio, current)):
                return

    def _lower_ratio(self, current: float, after: Floats, _added: float) -> bool:
        return bool(self.spread_ratio(after) < current - 1e-12)

    def _compactness(self, area: float, perimeter: float) -> float:
        return 4.0 * np.pi * area / perimeter**2 if perimeter > 0 else 0.0

    def smooth(self, rounds: int) -> None:
        """Moves that raise the two zones' Polsby-Popper (summed) most, while max/min stays
        within SMOOTH_SLACK or the figure reached."""
        self.phase += 1
        limit = max(self.spread_ratio(self.load), SMOOTH_SLACK)
        pp = self._compactness
        for _ in range(rounds):
            if self.late():
                return
            ranked = []
            for u, z, t, _added in self.moves(range(self.k)):
                shared = self.shared_with(u)
                own, theirs = shared.get(z, 0.0), shared.get(t, 0.0)
                pu, au = self.blocks.perimeter_m[u], self.blocks.area_m2[u]
                before = pp(self.area[z], self.perimeter[z]) + pp(self.area[t], self.perimeter[t])
                after = pp(self.area[z] - au, self.perimeter[z] - pu + 2 * own) + pp(
                    self.area[t] + au, self.perimeter[t] + pu - 2 * theirs
                )
                if after > before + 1e-9:
                    ranked.append((before - after, 0.0, u, t))
            if not ranked or not self._take_best(ranked, partial(self._within, limit)):
                return

    def _within(self, limit: float, after: Floats, _added: float) -> bool:
        return bool(self.spread_ratio(after) <= limit)


def partition(
    blocks: Blocks,
    weight: Floats,
    k: int,
    evaluate: Evaluate,
    *,
    pairs: Ints,
    shared_m: Floats,
    budget_s: float = 4.0,
    rounds: int = 3_000,
    start: Ints | None = None,
) -> Ints:
    """Zones 0..k-1 of the blocks, each one piece where the blocks' graph allows; `weight`
        guides METIS and ranks moves, `evaluate` decides them. Stops at `budget_s`. From `start`
    (a partition already one piece per zone) only the polish runs: a few moves out of the
    heaviest zone or into the lightest, so that the partition stays near `start`."""
    count = len(blocks.neighbours)
    started = time.perf_counter()
    if start is None:
        zone = metis_parts(count, pairs, weight, k, shared_m=shared_m)
        zone = repair(blocks.graph(), zone, weight, k)
        scaled = np.asarray(weight, dtype=float)
        for _ in range(RESEED if k > 1 else 0):
            # each block weighed by its zone's load over weight (e.g. the zone's deadhead),
            # damped, and METIS run again on those weights
            load = np.asarray(evaluate(zone, range(k)), dtype=float)
            base = np.bincount(zone, weights=scaled, minlength=k)
            ratio = np.where(base > 0, load / np.maximum(base, 1e-12), 1.0)
            scaled = scaled * np.sqrt(ratio[zone] / max(float(np.median(ratio)), 1e-12))
            again = repair(
                blocks.graph(), metis_parts(count, pairs, scaled, k, shared_m=shared_m), weight, k
            )
            after = np.asarray(evaluate(again, range(k)), dtype=float)
            if after.max() / max(after.min(), 1e-12) < load.max() / max(load.min(), 1e-12):
                zone = again
    else:
        zone = np.asarray(start, dtype=np.int64)
    if k == 1:
        return zone
    end = started + budget_s
    search = Search(blocks, zone, k, evaluate, weight, deadline=end)
    if start is not None:  # a few moves out of the heaviest zone or into the lightest
        search.polish(rounds)
        return search.zone
    # the phases share what is left of the budget: spread half, polish, smooth, polish
    for phase, share in ((search.spread, 0.5), (search.polish, 0.6), (search.smooth, 0.5)):
        now = time.perf_counter()
        search.deadline = now + share * max(end - now, 0.0)
        phase(rounds)
    search.deadline = end
    search.polish(rounds)
    return search.zone
