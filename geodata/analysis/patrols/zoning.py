"""Contiguous, compact zones of blocks balanced by load: METIS, repair, then local search.

METIS (pymetis, contiguous) gives K connected parts of near-equal weight, cutting short
boundaries. Parts it leaves in several pieces are repaired: every piece but the heaviest joins
the lightest zone it touches. METIS runs again RESEED times on the blocks weighed by their
zone's load over weight (kept when max/min falls). Then a local search moves one boundary
block at a time to a neighbouring zone, never a block whose removal cuts its zone in two:

1. balance: while zones lie outside a band of ±BAND around the mean load, the moves that
   bring them in most, each weighed against the Polsby-Popper it costs the two zones
   (COMPACT), so that load flows from heavy zones through their neighbours to light ones
   along the moves that keep the zones round;
2. smooth: the moves that raise the two zones' Polsby-Popper most (each zone's perimeter and
   area kept from its blocks' and what they share), while max/min stays within the band's
   (1 + BAND) / (1 - BAND) or the figure reached.

This is the districting rule of a tolerance on the load and, within it, the most compact
zones. From `start` (a partition corrected by measured loads) the same two steps run with
the band given, so that the partition stays near `start`.

A zone's load comes from `evaluate` (the caller's: e.g. an estimated route, not additive over
blocks). Moves are ranked by an additive stand-in (a block's weight times its zone's load
over weight) and each one taken is checked on `evaluate`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

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

BAND = 0.015
"""The balance step brings every zone within this share of the mean load."""

BALANCE_SHARE = 0.6
"""Share of the search's time the balance step may take; smoothing has the rest."""

COMPACT = 3.0
"""Weight of the Polsby-Popper a move costs its two zones against the squared loads outside
the band it removes (scaled by those, over K)."""

RESEED = 3
"""Times METIS runs again on blocks weighed by their zone's load over weight."""


class Move(NamedTuple):
    """Block `block` from zone `source` to `target`, with the metres of boundary it shares
    with each."""

    block: int
    source: int
    target: int
    shared_source_m: float
    shared_target_m: float


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
        self._movable: dict[int, set[int]] = {}
        # each zone's outline: perimeter = its blocks' perimeters less twice what they share
        self.area = np.bincount(self.zone, weights=blocks.area_m2, minlength=k)
        self.perimeter = np.bincount(self.zone, weights=blocks.perimeter_m, minlength=k)
        for a, (nb, sh) in enumerate(zip(blocks.neighbours, blocks.shared_m, strict=True)):
            for b, m in zip(nb, sh, strict=True):
                if a < b and self.zone[a] == self.zone[b]:
                    self.perimeter[self.zone[a]] -= 2.0 * m
        self.version = [0] * k
        self._moves: dict[int, list[Move]] = {}
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

    def moves(self, zones: Sequence[int]) -> list[Move]:
        """Boundary moves out of these zones."""
        out = []
        for z in zones:
            if z not in self._moves:
                found: list[Move] = []
                for u in self.movable(z):
                    shared = self.shared_with(u)
                    own = shared.get(z, 0.0)
                    found.extend(Move(u, z, t, own, s) for t, s in shared.items() if t != z)
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

    def outside(self, load: Floats, band: float) -> float:
        """The squared shares of the mean load by which zones lie outside the band."""
        mean = max(float(load.mean()), 1e-12)
        return sum(_outside_one(x, mean=mean, band=band) for x in load.tolist())

    def compactness_lost(self, move: Move) -> float:
        """What the move takes from the two zones' Polsby-Popper (summed)."""
        u, z, t, own, theirs = move
        pu, au = self.blocks.perimeter_m[u], self.blocks.area_m2[u]
        pp = self._compactness
        before = pp(self.area[z], self.perimeter[z]) + pp(self.area[t], self.perimeter[t])
        after = pp(self.area[z] - au, self.perimeter[z] - pu + 2 * own) + pp(
            self.area[t] + au, self.perimeter[t] + pu - 2 * theirs
        )
        return before - after

    def balance(self, band: float, rounds: int) -> None:
        """Moves from a heavier to a lighter zone that bring the zones within the band most,
        less COMPACT times the Polsby-Popper they cost."""
        self.phase += 1
        for _ in range(rounds):
            current = self.outside(self.load, band)
            if current <= 0.0 or self.late():
                return
            weigh = COMPACT * max(current, 1e-4) / self.k
            out = partial(_outside_one, mean=max(float(self.load.mean()), 1e-12), band=band)
            ranked = []
            for move in self.moves(range(self.k)):
                u, z, t = move.block, move.source, move.target
                lz, lt = float(self.load[z]), float(self.load[t])
                if lt >= lz:
                    continue
                # ranked on the additive stand-in at the present mean (taken on `evaluate`)
                after_z = lz - self.weight[u] * self.ratio(z)
                after_t = lt + self.weight[u] * self.ratio(t)
                cost = weigh * self.compactness_lost(move)
                score = out(after_z) + out(after_t) - out(lz) - out(lt) + cost
                if score < 0:
                    ranked.append((score, cost, u, t))
            if not self._take_best(ranked, partial(self._closer, band, current)):
                return

    def _closer(self, band: float, current: float, after: Floats, cost: float) -> bool:
        return bool(self.outside(after, band) + cost < current - 1e-12)

    def _take_best(
        self, ranked: list[tuple[float, float, int, int]], ok: Callable[[Floats, float], bool]
    ) -> bool:
        """Check the moves best first on `evaluate`, take the first that passes `ok`. A move
        that failed is not checked again while its two zones stay as they were."""
        ranked.sort()
        for _, cost, u, t in ranked:
            z = int(self.zone[u])
            key = (u, t, self.version[z], self.version[t], self.phase)
            if key in self.failed:
                continue
            if self.late():
                return False
            after = self.trial(u, t)
            if ok(after, cost):
                self.take(u, t, after)
                return True
            self.failed.add(key)
        return False

    def max_over_min(self, load: Floats) -> float:
        return float(load.max() / max(float(load.min()), 1e-12))

    def _compactness(self, area: float, perimeter: float) -> float:
        return 4.0 * np.pi * area / perimeter**2 if perimeter > 0 else 0.0

    def smooth(self, band: float, rounds: int) -> None:
        """Moves that raise the two zones' Polsby-Popper (summed) most, while max/min stays
        within the band's or the figure reached."""
        self.phase += 1
        limit = max(self.max_over_min(self.load), (1.0 + band) / (1.0 - band))
        for _ in range(rounds):
            if self.late():
                return
            ranked = []
            for move in self.moves(range(self.k)):
                lost = self.compactness_lost(move)
                if lost < -1e-9:
                    ranked.append((lost, 0.0, move.block, move.target))
            if not ranked or not self._take_best(ranked, partial(self._within, limit)):
                return

    def _within(self, limit: float, after: Floats, _cost: float) -> bool:
        return bool(self.max_over_min(after) <= limit)


def _outside_one(load: float, *, mean: float, band: float) -> float:
    """The squared share of the mean by which one zone's load lies outside the band."""
    return max(abs(load / mean - 1.0) - band, 0.0) ** 2


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
    band: float | None = None,
) -> Ints:
    """Zones 0..k-1 of the blocks, each one piece where the blocks' graph allows; `weight`
    guides METIS and ranks moves, `evaluate` decides them, within `band` (default BAND).
    Stops at `budget_s`. From `start` (a partition already one piece per zone) METIS is
    skipped: the local search starts there."""
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
    band = BAND if band is None else band
    end = started + budget_s
    search = Search(blocks, zone, k, evaluate, weight, deadline=end)
    now = time.perf_counter()
    search.deadline = now + BALANCE_SHARE * max(end - now, 0.0)
    search.balance(band, rounds)
    search.deadline = end
    search.smooth(band, rounds)
    return search.zone
