"""A route cut into loops from the station, each at most a number of hours, near-equal.

The closed walk is cut at nodes into n consecutive stretches; a loop walks from the station
to its stretch's first node by the shortest path, along the stretch, and back. For n = 1, 2,
... the cuts minimising the longest loop are found by bisection on that bound with a greedy
sweep (each loop takes the longest stretch that fits); the first n whose longest loop fits
the limit is kept. The cuts are then moved one step at a time while the longest loop over
the shortest falls, towards ±10 % of one another.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.postman import Tour

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


class LoopLimitError(ValueError):
    """The limit is shorter than the longest round trip from the station to one segment."""


@dataclass(frozen=True)
class Loop:
    first: int
    """Index of the loop's first step in the tour; it runs to the next loop's first step."""
    end: int
    route_m: float
    hours: float


def _costs(tour: Tour, to_station_m: Floats, stop_at: Floats, pace: Pace) -> tuple[Any, ...]:
    steps = tour.steps
    nodes = np.array([s.a for s in steps] + [tour.start], dtype=np.int64)
    walked = np.concatenate([[0.0], np.cumsum([s.metres for s in steps])])
    stops = np.concatenate([[0.0], np.cumsum(stop_at)])
    return nodes, walked, stops, to_station_m[nodes]


def _loop_hours(c: tuple[Any, ...], i: int, j: int, pace: Pace) -> tuple[float, float]:
    _nodes, walked, stops, home = c
    metres = float(home[i] + walked[j] - walked[i] + home[j])
    return metres, float(pace.hours(metres, stops[j] - stops[i]))


def _greedy(c: tuple[Any, ...], m: int, bound: float, pace: Pace) -> list[int] | None:
    cuts, i = [0], 0
    while i < m:
        j = i + 1
        if _loop_hours(c, i, j, pace)[1] > bound:
            return None
        while j < m and _loop_hours(c, i, j + 1, pace)[1] <= bound:
            j += 1
        cuts.append(j)
        i = j
    return cuts


def split_loops(
    tour: Tour, to_station_m: Floats, *, limit_h: float, pace: Pace, stop_at: Floats
) -> list[Loop]:
    """Loops of at most `limit_h` hours; `to_station_m[node]` is the metres from the station
    and `stop_at[step]` the stops passed on each step of the tour."""
    m = len(tour.steps)
    if m == 0:
        return []
    c = _costs(tour, np.asarray(to_station_m, float), np.asarray(stop_at, float), pace)
    single = max(_loop_hours(c, i, i + 1, pace)[1] for i in range(m))
    if single > limit_h:
        raise LoopLimitError(
            f"loop limit {limit_h:g} h is shorter than the longest round trip from the"
            f" station to one segment and back ({single:.2f} h)"
        )
    fewest = _greedy(c, m, limit_h, pace)
    assert fewest is not None  # every single step fits
    count = len(fewest) - 1
    lo, hi, cuts = single, limit_h, fewest
    for _ in range(40):  # the least bound on the longest loop that keeps `count` loops
        mid = (lo + hi) / 2
        found = _greedy(c, m, mid, pace)
        if found is not None and len(found) - 1 <= count:
            cuts, hi = found, mid
        else:
            lo = mid
    cuts = _balance(c, cuts, pace, limit_h)
    loops = []
    for i, j in itertools.pairwise(cuts):
        metres, hours = _loop_hours(c, i, j, pace)
        loops.append(Loop(first=i, end=j, route_m=metres, hours=hours))
    return loops


def _spread(c: tuple[Any, ...], cuts: list[int], pace: Pace) -> tuple[float, float]:
    hours = [_loop_hours(c, i, j, pace)[1] for i, j in itertools.pairwise(cuts)]
    return max(hours), max(hours) / max(min(hours), 1e-12)


def _balance(c: tuple[Any, ...], cuts: list[int], pace: Pace, limit_h: float) -> list[int]:
    cuts = list(cuts)
    for _ in range(10_000):
        _top, ratio = _spread(c, cuts, pace)
        best: tuple[float, int, int] | None = None
        for k in range(1, len(cuts) - 1):
            for step in (-1, 1):
                moved = cuts[k] + step
                if not cuts[k - 1] < moved < cuts[k + 1]:
                    continue
                trial = [*cuts[:k], moved, *cuts[k + 1 :]]
                t_top, t_ratio = _spread(c, trial, pace)
                better = t_top <= limit_h and t_ratio < ratio - 1e-12
                if better and (best is None or t_ratio < best[0]):
                    best = (t_ratio, k, moved)
        if best is None:
            break
        cuts[best[1]] = best[2]
    return cuts
