"""A planner's edit of patrol zones: one street block moved to another zone, refused when it
would cut a zone in two or empty it, and the figures of only the zones the move changes
measured again (a zone's route, hours, households, road metres and shape)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.plan import PatrolTown
from geodata.analysis.patrols.postman import postman_tour
from geodata.analysis.patrols.shape import pieces, polsby_popper, zone_outline

Ints = NDArray[np.int64]


class MoveRefused(ValueError):  # noqa: N818 - reads as the outcome the planner sees
    """A move that would leave a zone empty or in more pieces; the assignment is unchanged."""


@dataclass(frozen=True)
class ZoneFigures:
    """One zone's measured figures: its route's hours, the work in it and its shape."""

    units: int
    hours: float
    households: int
    road_m: float
    route_m: float
    pieces: int
    polsby_popper: float


def block_zones(town: PatrolTown, units: Ints, zones: Ints) -> Ints:
    """Each block's zone (-1: not zoned) given `zones[i]`, the zone of block `units[i]`."""
    out = np.full(town.blocks.count, -1, dtype=np.int64)
    out[np.asarray(units, dtype=np.int64)] = np.asarray(zones, dtype=np.int64)
    return out


def measure_zone(town: PatrolTown, members: Ints, segments: Ints, pace: Pace) -> ZoneFigures:
    """The figures of the zone of these blocks walking these street segments."""
    start = int(town.streets.u[segments[0]]) if len(segments) else 0
    tour = postman_tour(town.net, segments, start)
    b = town.blocks
    outline = zone_outline(b.geoms[members])
    return ZoneFigures(
        units=len(members),
        hours=float(pace.hours(tour.route_m, float(b.stops[members].sum()))),
        households=int(b.households[members].sum()),
        road_m=float(tour.street_m),
        route_m=float(tour.route_m),
        pieces=pieces(outline),
        polsby_popper=polsby_popper(outline),
    )


def _measure(
    town: PatrolTown, units: Ints, zones: Ints, which: list[int], pace: Pace
) -> dict[int, ZoneFigures]:
    segment_zone = town.zone_segments(block_zones(town, units, zones))
    return {
        z: measure_zone(
            town,
            units[zones == z],
            np.flatnonzero(segment_zone == z).astype(np.int64),
            pace,
        )
        for z in which
    }


def measure(town: PatrolTown, units: Ints, zones: Ints, k: int, pace: Pace) -> list[ZoneFigures]:
    """Every zone's figures (zones 0..k-1), measured afresh. A border street goes to the zone
    `PatrolTown.zone_segments` gives it to, as in zoning by hours."""
    units, zones = np.asarray(units, dtype=np.int64), np.asarray(zones, dtype=np.int64)
    found = _measure(town, units, zones, list(range(k)), pace)
    return [found[z] for z in range(k)]


def parts(town: PatrolTown, members: Ints) -> int:
    """How many pieces these blocks make, neighbours by a shared edge (not a corner)."""
    members = np.asarray(members, dtype=np.int64)
    if len(members) == 0:
        return 0
    local = np.full(town.blocks.count, -1, dtype=np.int64)
    local[members] = np.arange(len(members))
    pairs = local[town.blocks.pairs]
    pairs = pairs[(pairs >= 0).all(axis=1)]
    n = len(members)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return int(connected_components(graph, directed=False)[0])


def move(town: PatrolTown, units: Ints, zones: Ints, unit: int, to: int, k: int) -> Ints:
    """The zones after block `unit` moves to zone `to` (0..k-1); `MoveRefused` when the
    block is not zoned here, is in that zone already, or the move would empty its zone or
    leave either zone in more pieces than before."""
    units, zones = np.asarray(units, dtype=np.int64), np.asarray(zones, dtype=np.int64)
    at = np.flatnonzero(units == unit)
    if len(at) == 0:
        raise MoveRefused(f"street block {unit} is not one of this plan's")
    if not 0 <= to < k:
        raise MoveRefused(f"zone {to + 1}: the plan has zones 1 to {k}")
    source = int(zones[at[0]])
    if source == to:
        raise MoveRefused(f"street block {unit} is in zone {to + 1} already")
    after = zones.copy()
    after[at[0]] = to
    if not (after == source).any():
        raise MoveRefused(f"zone {source + 1} would be empty: it has only street block {unit}")
    for z, verb in ((source, "cut zone"), (to, "leave zone")):
        was, now = parts(town, units[zones == z]), parts(town, units[after == z])
        if now > max(was, 1):
            detail = "in two pieces" if verb == "cut zone" else "in two pieces: not next to it"
            raise MoveRefused(f"moving street block {unit} would {verb} {z + 1} {detail}")
    return after


def changed_zones(town: PatrolTown, units: Ints, before: Ints, after: Ints) -> list[int]:
    """Zones whose blocks or street segments differ between the two assignments (a border
    street may change hands between zones that keep their blocks)."""
    b0, b1 = block_zones(town, units, before), block_zones(town, units, after)
    s0, s1 = town.zone_segments(b0), town.zone_segments(b1)
    touched = np.concatenate([b0[b0 != b1], b1[b0 != b1], s0[s0 != s1], s1[s0 != s1]])
    return sorted(int(z) for z in np.unique(touched) if z >= 0)


def rescore(
    town: PatrolTown,
    units: Ints,
    before: Ints,
    after: Ints,
    figures: list[ZoneFigures],
    pace: Pace,
) -> tuple[list[ZoneFigures], list[int]]:
    """The figures after an edit, given those before: only the zones the edit changed are
    measured again. Returns every zone's figures and the changed zones."""
    units = np.asarray(units, dtype=np.int64)
    after = np.asarray(after, dtype=np.int64)
    changed = changed_zones(town, units, np.asarray(before, dtype=np.int64), after)
    found = _measure(town, units, after, changed, pace)
    return [found.get(z, f) for z, f in enumerate(figures)], changed
