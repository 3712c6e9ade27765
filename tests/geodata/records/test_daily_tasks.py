"""The task lists' balancing: the walking order visits every point once, nearest first, and
the contiguous cut minimises the longest piece (checked against every possible cut)."""

from __future__ import annotations

import itertools
import random

import pytest

from geodata.records.daily_tasks import metres, split, walking_order


def test_metres_is_about_right() -> None:
    # 0.001 degree of latitude is about 110.5 m; of longitude at 30° N about 96.4 m
    assert metres((120.0, 30.0), (120.0, 30.001)) == pytest.approx(110.54, rel=1e-3)
    assert metres((120.0, 30.0), (120.001, 30.0)) == pytest.approx(96.41, rel=1e-3)


def test_walking_order_is_nearest_neighbour_from_the_west() -> None:
    points = [(3.0, 0.0), (0.0, 0.0), (1.0, 0.0), (10.0, 0.0), (2.0, 0.0)]
    assert walking_order(points) == [1, 2, 4, 0, 3]
    assert walking_order([]) == []


def _longest(minutes: list[float], legs: list[float], starts: list[int]) -> float:
    bounds = [*starts, len(minutes)]
    return max(
        sum(minutes[a:b]) + sum(legs[a : b - 1]) if b > a else 0.0
        for a, b in itertools.pairwise(bounds)
    )


@pytest.mark.parametrize("seed", range(30))
def test_the_cut_minimises_the_longest_piece(seed: int) -> None:
    rng = random.Random(seed)
    n, k = rng.randint(1, 9), rng.randint(1, 4)
    minutes = [float(rng.choice((10, 20, 30))) for _ in range(n)]
    legs = [rng.uniform(0, 15) for _ in range(n - 1)]
    starts = split(minutes, legs, k)
    assert len(starts) == k
    assert starts[0] == 0
    assert starts == sorted(starts)
    best = min(
        _longest(minutes, legs, [0, *cut])
        for cut in itertools.combinations_with_replacement(range(1, n + 1), k - 1)
    )
    assert _longest(minutes, legs, starts) == pytest.approx(best, abs=1e-4)


def test_no_stops_gives_empty_pieces() -> None:
    assert split([], [], 3) == [0, 0, 0]
