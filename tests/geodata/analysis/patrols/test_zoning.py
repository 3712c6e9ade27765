"""Patrol zones on the sample town's streets and villages, balanced by the route estimate:
the estimate against a networkx computation made here, the zones against their own blocks,
outlines and exact routes."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
import pytest
import shapely

from geodata.analysis.patrols.estimate import JOIN, LONGEST, MATCH, RouteEstimate
from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.plan import PatrolTown, measure_zones, propose_zones
from geodata.analysis.patrols.postman import postman_tour
from geodata.records.patrol_inputs import fetch_patrol_inputs
from tests import conftest


@pytest.fixture(scope="module")
def town(sample_db: conftest.TestDatabase) -> PatrolTown:
    with sample_db.owner.connect() as conn:
        inputs = fetch_patrol_inputs(conn)
    return PatrolTown.build(
        inputs.roads_m,
        inputs.villages_m,
        households_xy=inputs.households_xy,
        households=inputs.households,
        stops_xy=inputs.stops_xy,
    )


def _town_graph(town: PatrolTown) -> nx.Graph[int]:
    g: nx.Graph[int] = nx.Graph()
    for a, b, w in zip(
        town.net.a.tolist(), town.net.b.tolist(), town.net.weight_m.tolist(), strict=True
    ):
        g.add_edge(a, b, weight=w)
    return g


def _one_street_piece(town: PatrolTown, nodes: int) -> np.ndarray:
    """The segments of the largest connected set among the first nodes reached from a node
    of the largest piece of streets."""
    st = town.streets
    g: nx.MultiGraph[int] = nx.MultiGraph()
    for seg, (a, b) in enumerate(zip(st.u.tolist(), st.v.tolist(), strict=True)):
        g.add_edge(a, b, key=seg)
    biggest: set[int] = max(nx.connected_components(g), key=len)
    first = min(biggest)
    sub = g.subgraph(list(nx.bfs_tree(g, first).nodes)[:nodes])
    piece: set[int] = max(nx.connected_components(sub), key=len)
    return np.array(sorted(k for _, _, k in sub.subgraph(piece).edges(keys=True)), dtype=np.int64)


def test_route_estimate_is_streets_plus_the_walks_to_the_nearest_odd_nodes(
    town: PatrolTown,
) -> None:
    segments = _one_street_piece(town, 200)
    st = town.streets
    mask = np.zeros(st.count, dtype=bool)
    mask[segments] = True
    degree = np.bincount(np.r_[st.u[segments], st.v[segments]], minlength=len(st.node_xy))
    odd = set(np.flatnonzero(degree % 2).tolist())
    assert len(odd) > 20
    g = _town_graph(town)
    estimate = RouteEstimate.build(town.net)
    nearest = []
    for a in odd:
        dist = nx.single_source_dijkstra_path_length(g, a, cutoff=estimate.bound_m)
        nearest.append(min([d for b, d in dist.items() if b in odd and b != a], default=0.0))
    independent = st.length_m[segments].sum() + MATCH * 0.5 * sum(
        min(d, estimate.bound_m) for d in nearest
    )
    # the estimate looks among each node's nearest nodes only: an odd node farther off
    # counts the bound
    assert estimate.route_m(mask) == pytest.approx(independent, rel=0.02)
    # one piece: no joining; the exact route lies within the estimate's reach
    exact = postman_tour(town.net, segments, int(st.u[segments[0]])).route_m
    assert 0.8 * exact <= estimate.route_m(mask) <= 1.25 * exact


def test_route_estimate_joins_two_pieces_by_the_walk_between_them(town: PatrolTown) -> None:
    st = town.streets
    segments = _one_street_piece(town, 60)
    estimate = RouteEstimate.build(town.net)
    one = np.zeros(st.count, dtype=bool)
    one[segments[:1]] = True
    g = _town_graph(town)
    ends = [int(st.u[segments[0]]), int(st.v[segments[0]])]
    dist = nx.multi_source_dijkstra_path_length(g, ends, weight="weight")
    longest = float(st.length_m[segments[0]])

    def gap_to(s: int) -> float:
        return min(dist.get(int(st.u[s]), np.inf), dist.get(int(st.v[s]), np.inf))

    # a segment a few streets away: farther than either segment is long, so that each
    # segment's two ends stay each other's nearest odd nodes
    far = next(
        s for s in segments.tolist() if gap_to(s) > 1.5 * max(longest, float(st.length_m[s]))
    )
    gap = gap_to(far)
    two = one.copy()
    two[far] = True
    lone = np.zeros(st.count, dtype=bool)
    lone[far] = True
    joined = estimate.route_m(two) - estimate.route_m(one) - estimate.route_m(lone)
    # two ends of each lone segment pair with each other; the join walks the gap twice
    assert joined == pytest.approx(2.0 * gap, rel=1e-6)


def test_zones_by_hours_are_one_piece_compact_and_balanced_on_the_estimate(
    town: PatrolTown,
) -> None:
    units = np.arange(town.blocks.count)
    pace = Pace()
    zones = propose_zones(town, units, 12, pace=pace, refine=0)
    assert sorted(np.concatenate([z.units for z in zones]).tolist()) == units.tolist()
    for z in zones:
        grown = shapely.buffer(town.blocks.geoms[z.units], 0.01)
        assert len(shapely.get_parts(shapely.unary_union(grown))) == 1
        assert z.pieces == 1
    estimated = [z.estimated_hours for z in zones]
    assert max(estimated) / min(estimated) <= 1.05
    assert float(np.median([z.polsby_popper for z in zones])) >= 0.3
    # the hours reported are the zone's exact route at the pace, stops included
    for z in zones[:3]:
        stops = int(town.blocks.stops[z.units].sum())
        assert z.hours == pytest.approx(float(pace.hours(z.route_m, stops)))
        assert z.route_m > z.road_m


def test_a_correction_reports_each_zone_as_measured_afresh(town: PatrolTown) -> None:
    """Zones the correction left as they were keep their first measurement: every zone
    reported equals a fresh measurement of the partition returned."""
    units = np.arange(town.blocks.count)
    zones = propose_zones(town, units, 12, refine=1)
    zone = np.empty(len(units), dtype=np.int64)
    for n, z in enumerate(zones):
        zone[z.units] = n
    fresh = measure_zones(town, units, zone, 12)
    for z, f in zip(zones, fresh, strict=True):
        assert z.units.tolist() == f.units.tolist()
        assert (z.route_m, z.road_m, z.hours) == (f.route_m, f.road_m, f.hours)
        assert (z.polsby_popper, z.pieces, z.households) == (
            f.polsby_popper,
            f.pieces,
            f.households,
        )
        assert z.estimated_hours == pytest.approx(f.estimated_hours, rel=1e-12)


def test_route_estimate_joins_pieces_out_of_reach_by_a_tree_of_their_distances(
    town: PatrolTown,
) -> None:
    """Single segments far apart (out of each other's nearest-node lists): the join is twice
    the minimum spanning tree of the complete graph of their distances along the town's
    graph, computed here with networkx (one Dijkstra per segment)."""
    st = town.streets
    estimate = RouteEstimate.build(town.net)
    g = _town_graph(town)
    reachable = max(nx.connected_components(g), key=len)
    chosen: list[int] = []
    dists: list[dict[int, float]] = []
    for s in np.argsort(st.node_xy[st.u, 0] + st.node_xy[st.u, 1]).tolist():
        ends = [int(st.u[s]), int(st.v[s])]
        if ends[0] not in reachable or any(
            min(d.get(e, np.inf) for e in ends) < 3.0 * estimate.bound_m for d in dists
        ):
            continue
        chosen.append(s)
        dists.append(nx.multi_source_dijkstra_path_length(g, ends, weight="weight"))
        if len(chosen) == 5:
            break
    assert len(chosen) == 5
    complete: nx.Graph[int] = nx.Graph()
    for i, a in enumerate(chosen):
        for j in range(i + 1, len(chosen)):
            b = chosen[j]
            gap = min(dists[i][int(st.u[b])], dists[i][int(st.v[b])])
            complete.add_edge(a, b, weight=gap)
    tree = nx.minimum_spanning_tree(complete).size(weight="weight")
    mask = np.zeros(st.count, dtype=bool)
    mask[chosen] = True
    alone = 0.0
    for s in chosen:
        lone = np.zeros(st.count, dtype=bool)
        lone[s] = True
        alone += estimate.route_m(lone)
    assert estimate.route_m(mask) - alone == pytest.approx(JOIN * tree, rel=1e-9)


def test_route_estimate_measures_odd_nodes_out_of_reach_along_the_town_graph(
    town: PatrolTown,
) -> None:
    """A long path of streets: its two ends are its only odd nodes, too far apart for each
    other's nearest-node lists, so each one's nearest odd node is the other, measured along
    the whole town graph (networkx here)."""
    st = town.streets
    estimate = RouteEstimate.build(town.net)
    g = _town_graph(town)
    streets: nx.Graph[int] = nx.Graph()
    for seg, (a, b) in enumerate(zip(st.u.tolist(), st.v.tolist(), strict=True)):
        if a != b and not streets.has_edge(a, b):
            streets.add_edge(a, b, segment=seg)
    biggest = max(nx.connected_components(streets), key=len)
    first = min(biggest)
    hops = nx.single_source_shortest_path(streets, first)
    path = max(hops.values(), key=len)[: 4 * estimate.near.shape[1]]
    segments = [streets.edges[a, b]["segment"] for a, b in pairwise(path)]
    mask = np.zeros(st.count, dtype=bool)
    mask[segments] = True
    ends = (path[0], path[-1])
    lists = set(estimate.near[ends[0]].tolist()) | set(estimate.near[ends[1]].tolist())
    assert not set(ends) & lists  # out of each other's lists
    apart = nx.dijkstra_path_length(g, *ends, weight="weight")
    expected = st.length_m[segments].sum() + MATCH * 0.5 * 2 * min(
        apart, estimate.bound_m * LONGEST
    )
    assert estimate.route_m(mask) == pytest.approx(expected, rel=1e-9)
