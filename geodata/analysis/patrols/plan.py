"""Patrol zones of a town and their routes, from road lines, areas, households and posts.

`PatrolTown.build` notes the streets, makes the blocks and the walkable graph once;
`propose_zones` partitions the blocks into K zones balanced by estimated patrol hours (each
zone's route estimated, `estimate.py`), or by households or road metres, then measures each
zone's exact postman route once (`zone_blocks` and `measure_zones` are the two steps);
`zone_tour` is a zone's route from a station.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geodata.analysis.patrols.blocks import Blocks as StreetBlocks
from geodata.analysis.patrols.blocks import street_blocks
from geodata.analysis.patrols.estimate import RouteEstimate
from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.postman import Tour, postman_length, postman_tour
from geodata.analysis.patrols.shape import pieces, polsby_popper, zone_outline
from geodata.analysis.patrols.streets import Streets, node_streets
from geodata.analysis.patrols.walkable import Walkable, walkable
from geodata.analysis.patrols.zoning import Blocks, partition

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Geoms = NDArray[np.object_]
Balance = Literal["hours", "households", "road_m"]

BUDGET_S = 4.0
"""Seconds the local search of the zoning may take (the exact routes are measured after)."""

REFINE = 1
"""Times each zone's exact hours over its estimate corrects the estimate for a short local
search from the zones found (REFINE_BAND, a quarter of the budget) and another exact
measurement; the partition with the least measured max/min is kept."""

REFINE_BAND = 0.025
"""The band of the correction's search: wider than the first one's, so that it moves few
blocks and a zone's measured error stays with it."""

DAMPING = 1.0
"""Part of each zone's measured error the correction takes (all of it: few blocks move)."""


@dataclass(frozen=True)
class PatrolTown:
    """The town's streets, blocks and walkable graph, in metres."""

    streets: Streets
    blocks: StreetBlocks
    net: Walkable
    stops_xy: Floats
    _estimate: dict[str, RouteEstimate] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        roads_m: Geoms,
        areas_m: Geoms,
        *,
        households_xy: Floats,
        households: Ints,
        stops_xy: Floats,
    ) -> PatrolTown:
        streets = node_streets(roads_m, areas_m)
        blocks = street_blocks(
            streets, areas_m, households_xy=households_xy, households=households, stops_xy=stops_xy
        )
        return cls(streets, blocks, walkable(streets), np.asarray(stops_xy, float).reshape(-1, 2))

    def segments_of(self, units: Ints) -> Ints:
        """The street segments of these blocks."""
        return np.flatnonzero(np.isin(self.streets_block(), units)).astype(np.int64)

    def zone_segments(self, zone_of_block: Ints) -> Ints:
        """Each segment's zone (-1: none) given each block's zone (-1: none).

        A segment goes with the block that owns it, except on the border of two zones: there
        it goes to the zone with more of its own streets at the segment's two ends, so that
        a zone's streets along its border stay joined (the lowest-numbered block would give
        them to either side in turn, and the pieces would cost walking to join).
        """
        b, st = self.blocks, self.streets
        zone = np.asarray(zone_of_block, dtype=np.int64)
        owner = np.where(b.segment_block >= 0, zone[b.segment_block], -1)
        other = np.where(b.segment_other >= 0, zone[np.maximum(b.segment_other, 0)], -1)
        border = (owner >= 0) & (other >= 0) & (owner != other)
        k = int(zone.max()) + 1 if len(zone) else 0
        if not border.any() or k == 0:
            return owner
        inner = (owner >= 0) & ~border
        count = np.zeros((len(st.node_xy), k))
        np.add.at(count, (st.u[inner], owner[inner]), 1.0)
        np.add.at(count, (st.v[inner], owner[inner]), 1.0)
        u, v = st.u[border], st.v[border]
        mine = count[u, owner[border]] + count[v, owner[border]]
        theirs = count[u, other[border]] + count[v, other[border]]
        chosen = owner.copy()
        chosen[border] = np.where(theirs > mine, other[border], owner[border])
        return chosen

    def route_estimate(self) -> RouteEstimate:
        """The town's route estimate (built once, kept)."""
        cached = self._estimate.get("estimate")
        if cached is None:
            cached = self._estimate["estimate"] = RouteEstimate.build(self.net)
        return cached

    def streets_block(self) -> Ints:
        return self.blocks.segment_block

    def nearest_node(self, xy: Floats) -> int:
        return int(cKDTree(self.streets.node_xy).query(np.asarray(xy, float))[1])

    def zone_tour(self, units: Ints, *, start: int | None = None) -> Tour:
        """The postman route of the blocks' segments from node `start` (default: a node of
        the zone's first segment)."""
        segments = self.segments_of(units)
        if start is None:
            start = int(self.streets.u[segments[0]]) if len(segments) else 0
        return postman_tour(self.net, segments, start)


@dataclass(frozen=True)
class Zone:
    units: Ints
    hours: float
    households: int
    road_m: float
    route_m: float
    pieces: int
    polsby_popper: float
    estimated_hours: float = float("nan")
    """The hours the zoning balanced (`estimate.py`; NaN when balanced by households or road
    metres); `hours` are the exact postman route's."""
    matching_gap_m: float = 0.0
    """Metres the route's pairing of odd nodes may be over the optimum (a bound from the
    exact solver's rounding of weights, see `tjoin.py`)."""


def _weights(town: PatrolTown, units: Ints, by: Balance, pace: Pace) -> Floats:
    """Each block's own load: its street hours and stops (or households, or road metres)."""
    b = town.blocks
    if by == "households":
        return b.households[units].astype(float)
    if by == "road_m":
        return b.road_m[units].astype(float)
    return np.asarray(pace.hours(b.road_m[units], b.stops[units].astype(np.float64)), dtype=float)


def _sub_pairs(town: PatrolTown, units: Ints) -> tuple[Ints, Floats]:
    local = np.full(town.blocks.count, -1, dtype=np.int64)
    local[units] = np.arange(len(units))
    pairs = local[town.blocks.pairs]
    keep = (pairs >= 0).all(axis=1)
    return pairs[keep], town.blocks.shared_m[keep]


def _segment_zones(town: PatrolTown, units: Ints, zone: Ints, *, joined: bool) -> Ints:
    """Each segment's zone (-1: none); `joined`: border streets as `zone_segments` gives them
    (else each street with the block that owns it, as households and road metres are
    balanced)."""
    zone_of_block = np.full(town.blocks.count, -1, dtype=np.int64)
    zone_of_block[units] = zone
    if joined:
        return town.zone_segments(zone_of_block)
    owner = town.blocks.segment_block
    return np.where(owner >= 0, zone_of_block[np.maximum(owner, 0)], -1)


def _estimator(
    town: PatrolTown, units: Ints, pace: Pace, estimate: RouteEstimate
) -> Callable[[Ints, Sequence[int]], Floats]:
    stops = town.blocks.stops[units].astype(np.float64)

    def evaluate(zone: Ints, zones: Sequence[int]) -> Floats:
        seg_zone = _segment_zones(town, units, zone, joined=True)
        out = np.empty(len(zones))
        for i, z in enumerate(zones):
            route = estimate.route_m(seg_zone == z)
            out[i] = float(pace.hours(route, float(stops[zone == z].sum())))
        return out

    return evaluate


@dataclass(frozen=True)
class _Setup:
    graph: Blocks
    weight: Floats
    pairs: Ints
    shared: Floats
    evaluate: Callable[[Ints, Sequence[int]], Floats]


def _setup(town: PatrolTown, units: Ints, k: int, by: Balance, pace: Pace) -> _Setup:
    if k < 1 or k > len(units):
        raise ValueError(f"zones: between 1 and the {len(units)} blocks")
    pairs, shared = _sub_pairs(town, units)
    weight = _weights(town, units, by, pace)
    geoms = town.blocks.geoms[units]
    graph = Blocks.of(
        len(units),
        pairs,
        shared,
        shapely.length(geoms).astype(float),
        shapely.area(geoms).astype(float),
    )
    if by == "hours":
        return _Setup(
            graph, weight, pairs, shared, _estimator(town, units, pace, town.route_estimate())
        )

    def additive(zone: Ints, zones: Sequence[int]) -> Floats:
        return np.asarray(np.bincount(zone, weights=weight, minlength=k)[list(zones)], dtype=float)

    return _Setup(graph, weight, pairs, shared, additive)


def zone_blocks(
    town: PatrolTown,
    units: Ints,
    k: int,
    *,
    by: Balance = "hours",
    pace: Pace | None = None,
    budget_s: float = BUDGET_S,
) -> Ints:
    """Each block's zone (0..k-1), balanced by `by` (hours: the estimated route hours), not
    measured."""
    units = np.asarray(units, dtype=np.int64)
    s = _setup(town, units, k, by, pace or Pace())
    return partition(
        s.graph, s.weight, k, s.evaluate, pairs=s.pairs, shared_m=s.shared, budget_s=budget_s
    )


def measure_zones(
    town: PatrolTown,
    units: Ints,
    zone: Ints,
    k: int,
    *,
    by: Balance = "hours",
    pace: Pace | None = None,
) -> list[Zone]:
    """Each zone's figures: its exact postman route, hours, shape and (by hours) the
    estimate the zoning balanced."""
    units = np.asarray(units, dtype=np.int64)
    pace = pace or Pace()
    s = _setup(town, units, k, by, pace)
    return _measure_all(town, units, zone, k, pace, s.evaluate, joined=by == "hours")


def propose_zones(
    town: PatrolTown,
    units: Ints,
    k: int,
    *,
    by: Balance = "hours",
    pace: Pace | None = None,
    budget_s: float = BUDGET_S,
    refine: int = REFINE,
) -> list[Zone]:
    """K contiguous zones of these blocks, balanced by `by`; by hours, on the estimated route
    (`estimate.py`), each zone's exact postman route then measured (`refine` times more
    after a correction, the partition with the least measured max/min kept)."""
    pace = pace or Pace()
    units = np.asarray(units, dtype=np.int64)
    s = _setup(town, units, k, by, pace)
    zone = partition(
        s.graph, s.weight, k, s.evaluate, pairs=s.pairs, shared_m=s.shared, budget_s=budget_s
    )
    known: dict[tuple[bytes, bytes], Zone] = {}
    zones = _measure_all(town, units, zone, k, pace, s.evaluate, joined=by == "hours", known=known)
    if by != "hours":
        return zones
    for _ in range(refine):
        # each zone's exact hours over its estimate
        ratio = np.array([z.hours / max(z.estimated_hours, 1e-12) for z in zones])
        correction = 1.0 + DAMPING * (ratio - 1.0)

        def corrected(zone: Ints, ids: Sequence[int], c: Floats = correction) -> Floats:
            return np.asarray(s.evaluate(zone, ids) * c[list(ids)], dtype=float)

        zone = partition(
            s.graph,
            s.weight,
            k,
            corrected,
            pairs=s.pairs,
            shared_m=s.shared,
            budget_s=budget_s / 4,
            start=zone,
            band=REFINE_BAND,
        )
        again = _measure_all(town, units, zone, k, pace, s.evaluate, joined=True, known=known)
        # kept when it balances better and leaves no zone in more pieces (the block graph
        # may join two blocks whose outlines stay apart by more than the slivers closed)
        pieces_of = max(z.pieces for z in zones)
        if _spread(again) < _spread(zones) and max(z.pieces for z in again) <= pieces_of:
            zones = again
    return zones


def _spread(zones: list[Zone]) -> float:
    hours = [z.hours for z in zones]
    return max(hours) / max(min(hours), 1e-12)


def _measure_all(
    town: PatrolTown,
    units: Ints,
    zone: Ints,
    k: int,
    pace: Pace,
    evaluate: Callable[[Ints, Sequence[int]], Floats],
    *,
    joined: bool,
    known: dict[tuple[bytes, bytes], Zone] | None = None,
) -> list[Zone]:
    """Each zone measured; one with the same blocks and streets as a zone in `known` (a
    measurement before a correction) is taken from there (its estimate is the same too)."""
    estimated = evaluate(zone, range(k)) if joined else np.full(k, np.nan)
    seg_zone = _segment_zones(town, units, zone, joined=joined)
    known = {} if known is None else known
    out = []
    for z in range(k):
        members = units[zone == z]
        segments = np.flatnonzero(seg_zone == z).astype(np.int64)
        key = (members.tobytes(), segments.tobytes())
        if key not in known:
            known[key] = _measure(town, members, pace, segments, float(estimated[z]))
        out.append(known[key])
    return out


def _measure(
    town: PatrolTown, members: Ints, pace: Pace, segments: Ints, estimated_hours: float
) -> Zone:
    start = int(town.streets.u[segments[0]]) if len(segments) else 0
    route_m, gap_m = postman_length(town.net, segments, start)
    b = town.blocks
    outline = zone_outline(b.geoms[members])
    stops = int(b.stops[members].sum())
    return Zone(
        units=members,
        hours=float(pace.hours(route_m, stops)),
        households=int(b.households[members].sum()),
        road_m=float(town.streets.length_m[segments].sum()),
        route_m=route_m,
        pieces=pieces(outline),
        polsby_popper=polsby_popper(outline),
        estimated_hours=estimated_hours,
        matching_gap_m=gap_m,
    )
