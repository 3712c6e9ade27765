"""Distances from people to isolation sites along a hand-made road network, checked against
the lengths worked out by hand: along the roads where a route joins them, straight where
none does, never shorter than straight."""

from __future__ import annotations

import numpy as np
import pytest
from shapely import LineString

from geodata.analysis.coverage.network import RoadNetwork
from geodata.analysis.isolation.routes import straight_m, travel_m

# An L along x then up y (2 km), and a short road of its own far away.
ROADS = np.array(
    [
        LineString([(0, 0), (1000, 0), (1000, 1000)]),
        LineString([(5000, 5000), (5100, 5000)]),
    ],
    dtype=object,
)
SITES = np.array([[1000.0, 1010.0], [0.0, -20.0]])


def test_routes_along_the_roads_and_straight_where_none_joins() -> None:
    people = np.array([[0.0, 10.0], [5050.0, 5003.0], [np.nan, np.nan]])
    found = travel_m(people, SITES, RoadNetwork.from_lines(ROADS))
    # person 0: 10 m to the corner (0, 0), 2,000 m along the L, 10 m up to site 0
    assert found.metres[0, 0] == pytest.approx(10 + 2000 + 10)
    # person 0 and site 1 share the node (0, 0): 10 m + 20 m
    assert found.metres[0, 1] == pytest.approx(30.0)
    assert found.by_road[0].tolist() == [True, True]
    # person 1's road joins neither site: straight
    straight = np.hypot(*(people[1] - SITES).T)
    assert found.metres[1] == pytest.approx(straight)
    assert found.by_road[1].tolist() == [False, False]
    # nowhere known: reaches nothing
    assert np.isinf(found.metres[2]).all()
    assert not found.by_road[2].any()


def test_a_route_is_never_shorter_than_the_straight_line() -> None:
    rng = np.random.default_rng(3)
    people = rng.uniform(-200, 1200, size=(40, 2))
    found = travel_m(people, SITES, RoadNetwork.from_lines(ROADS))
    assert np.all(found.metres >= straight_m(people, SITES) - 1e-6)


def test_without_roads_everything_is_straight() -> None:
    people = np.array([[0.0, 0.0], [300.0, 400.0]])
    sites = np.array([[0.0, 0.0]])
    for network in (None, RoadNetwork.from_lines(np.array([], dtype=object))):
        found = travel_m(people, sites, network)
        assert found.metres.ravel().tolist() == pytest.approx([0.0, 500.0])
        assert not found.by_road.any()
