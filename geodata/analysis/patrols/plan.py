"""Patrol zones of a town and their routes, from road lines, areas, households and posts.

`PatrolTown.build` notes the streets, makes the blocks and the walkable graph once;
`propose_zones` partitions the blocks into K zones balanced by estimated patrol hours (the
zones' postman routes measured and fed back into the balance, the best kept), or by households or
road metres; `zone_tour` is a zone's route from a station.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geodata.analysis.patrols.blocks import Blocks, street_blocks
from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.postman import Tour, postman_tour
from geodata.analysis.patrols.shape import pieces, polsby_popper, zone_outline
from geodata.analysis.patrols.streets import Streets, node_streets
from geodata.analysis.patrols.walkable import Walkable, walkable
from geodata.analysis.patrols.zoning import Loads, partition

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Geoms = NDArray[np.object_]
Balance = Literal["hours", "households", "road_m"]

REFINE_ROUNDS = 4
"""Times the zones' measured routes are fed back into the balance by hours (the best of the
partitions measured is kept)."""


@dataclass(frozen=True)
class PatrolTown:
    """The town's streets, blocks and walkable graph, in metres."""

    streets: Streets
    blocks: Blocks
    net: Walkable
    stops_xy: Floats

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


def _loads(town: PatrolTown, units: Ints, by: Balance, pace: Pace) -> Loads:
    b = town.blocks
    if by == "households":
        return Loads(a=b.households[units].astype(float), c=np.zeros(len(units)))
    if by == "road_m":
        return Loads(a=b.road_m[units].astype(float), c=np.zeros(len(units)))
    return Loads(
        a=pace.hours(b.road_m[units]), c=pace.hours(0.0, b.stops[units].astype(np.float64))
    )


def _sub_pairs(town: PatrolTown, units: Ints) -> tuple[Ints, Floats]:
    local = np.full(town.blocks.count, -1, dtype=np.int64)
    local[units] = np.arange(len(units))
    pairs = local[town.blocks.pairs]
    keep = (pairs >= 0).all(axis=1)
    return pairs[keep], town.blocks.shared_m[keep]


def _measure(town: PatrolTown, members: Ints, pace: Pace, segments: Ints) -> tuple[Tour, Zone]:
    start = int(town.streets.u[segments[0]]) if len(segments) else 0
    tour = postman_tour(town.net, segments, start)
    b = town.blocks
    outline = zone_outline(b.geoms[members])
    stops = int(b.stops[members].sum())
    zone = Zone(
        units=members,
        hours=float(pace.hours(tour.route_m, stops)),
        households=int(b.households[members].sum()),
        road_m=tour.street_m,
        route_m=tour.route_m,
        pieces=pieces(outline),
        polsby_popper=polsby_popper(outline),
    )
    return tour, zone


def propose_zones(
    town: PatrolTown, units: Ints, k: int, *, by: Balance = "hours", pace: Pace | None = None
) -> list[Zone]:
    """K contiguous zones of these blocks, balanced by `by`."""
    pace = pace or Pace()
    units = np.asarray(units, dtype=np.int64)
    if k < 1 or k > len(units):
        raise ValueError(f"zones: between 1 and the {len(units)} blocks")
    pairs, shared = _sub_pairs(town, units)
    loads = _loads(town, units, by, pace)
    zone = partition(len(units), pairs, loads, k, shared_m=shared)
    measured = _measure_all(town, units, zone, k, pace, joined=by == "hours")
    best = [z for _, z in measured]
    if by == "hours":
        ratio = np.ones(k)
        for _ in range(REFINE_ROUNDS):
            street = np.array([max(t.street_m, 1e-9) for t, _ in measured])
            # damped: a zone's deadhead moves with its blocks, half the step is steadier
            ratio = 0.5 * ratio + 0.5 * np.array([t.route_m for t, _ in measured]) / street
            loads.ratio = ratio
            zone = partition(len(units), pairs, loads, k, shared_m=shared, start=zone)
            measured = _measure_all(town, units, zone, k, pace, joined=True)
            if _spread([z for _, z in measured]) < _spread(best):
                best = [z for _, z in measured]
    return best


def _measure_all(
    town: PatrolTown, units: Ints, zone: Ints, k: int, pace: Pace, *, joined: bool
) -> list[tuple[Tour, Zone]]:
    """Each zone's route and figures; `joined`: border streets given as `zone_segments`
    gives them (else each street with the block that owns it, as households and road
    metres are balanced)."""
    zone_of_block = np.full(town.blocks.count, -1, dtype=np.int64)
    zone_of_block[units] = zone
    if joined:
        seg_zone = town.zone_segments(zone_of_block)
    else:
        owner = town.blocks.segment_block
        seg_zone = np.where(owner >= 0, zone_of_block[np.maximum(owner, 0)], -1)
    return [
        _measure(town, units[zone == z], pace, np.flatnonzero(seg_zone == z).astype(np.int64))
        for z in range(k)
    ]


def _spread(zones: list[Zone]) -> float:
    hours = [z.hours for z in zones]
    return max(hours) / max(min(hours), 1e-12)
