"""Patrol zoning and routing on the sample town's real streets and villages, checked against
computations made here independently: shapely for lengths and shapes, networkx for the
postman length and the matching, the tour walked step by step."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely import LineString, box

from geodata.analysis.patrols.blocks import street_blocks
from geodata.analysis.patrols.loops import LoopLimitError, split_loops
from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.plan import PatrolTown, propose_zones
from geodata.analysis.patrols.postman import Tour, postman_length, postman_tour
from geodata.analysis.patrols.streets import node_streets
from geodata.analysis.patrols.tjoin import TJoinSolver
from geodata.records.patrol_inputs import PatrolInputs, fetch_patrol_inputs
from tests import conftest


@pytest.fixture(scope="module")
def inputs(sample_db: conftest.TestDatabase) -> PatrolInputs:
    with sample_db.owner.connect() as conn:
        return fetch_patrol_inputs(conn)


@pytest.fixture(scope="module")
def town(inputs: PatrolInputs) -> PatrolTown:
    return PatrolTown.build(
        inputs.roads_m,
        inputs.villages_m,
        households_xy=inputs.households_xy,
        households=inputs.households,
        stops_xy=inputs.stops_xy,
    )


def _components(lines: np.ndarray) -> int:
    g: nx.Graph[tuple[float, float]] = nx.Graph()
    for line in lines:
        xy = np.round(shapely.get_coordinates(line)[[0, -1]], 2)
        g.add_edge(tuple(xy[0]), tuple(xy[1]))
    return nx.number_connected_components(g)


def test_noded_streets_keep_every_metre_and_join_the_raw_ways(
    inputs: PatrolInputs, town: PatrolTown
) -> None:
    clipped = shapely.intersection(inputs.roads_m, shapely.union_all(inputs.villages_m))
    # ways that overlap are one street: the union of the lines, overlaps once (to the
    # centimetre grid the noding snaps to: 71 m of 867 km on the sample)
    dissolved = shapely.length(shapely.union_all(clipped))
    assert town.streets.length_m.sum() == pytest.approx(dissolved, rel=1e-4)
    raw = shapely.get_parts(clipped)
    raw = raw[~shapely.is_empty(raw) & (shapely.get_type_id(raw) == 1)]
    assert _components(raw) > 1000  # the ways as OSM gives them
    assert _components(town.streets.segments) < 50
    # a segment crosses no other one inside (noded): its interior meets no other segment
    tree = shapely.STRtree(town.streets.segments)
    pairs = tree.query(town.streets.segments, predicate="crosses")
    assert pairs.shape[1] == 0


def test_blocks_share_an_edge_with_their_neighbours_and_corners_are_not_neighbours(
    town: PatrolTown,
) -> None:
    b = town.blocks
    a, c = b.geoms[b.pairs[:, 0]], b.geoms[b.pairs[:, 1]]
    # the boundary of one within a hair of the other's
    # (outlines of two villages drawn millimetres apart count as one edge: 1 cm)
    near = shapely.buffer(shapely.boundary(a), 0.01)
    shared = shapely.length(shapely.intersection(shapely.boundary(c), near))
    assert np.all(shared > 0.5)
    known = {tuple(p) for p in b.pairs.tolist()}
    touching = shapely.STRtree(b.geoms).query(b.geoms, predicate="touches")
    others = [(i, j) for i, j in touching.T.tolist() if i < j and (i, j) not in known]
    assert others, "the sample has blocks meeting at a corner only"
    left, right = b.geoms[[i for i, _ in others]], b.geoms[[j for _, j in others]]
    near_left = shapely.buffer(shapely.boundary(left), 0.01)
    meet = shapely.length(shapely.intersection(shapely.boundary(right), near_left))
    # all but a handful touch at a corner; those few lie across two ways drawn a few
    # millimetres apart over a stretch (5 of 987 on the sample): a sliver between them
    assert np.mean(meet <= 0.5) >= 0.99


def test_four_blocks_around_a_crossing_have_four_neighbour_pairs_not_six() -> None:
    roads = np.array(
        [LineString([(0, 100), (200, 100)]), LineString([(100, 0), (100, 200)])], dtype=object
    )
    area = np.array([box(0, 0, 200, 200)], dtype=object)
    streets = node_streets(roads, area)
    assert streets.count == 4
    blocks = street_blocks(
        streets,
        area,
        households_xy=np.empty((0, 2)),
        households=np.empty(0, np.int64),
        stops_xy=np.empty((0, 2)),
    )
    assert blocks.count == 4
    assert len(blocks.pairs) == 4  # the two diagonal pairs touch at the crossing only
    assert blocks.road_m.sum() == pytest.approx(400.0)


def test_tjoin_equals_networkx_blossom_on_the_town_graph(town: PatrolTown) -> None:
    """Random sets of the town's nodes paired by the T-join solver cost what networkx's
    blossom pairs them for on the complete graph of their shortest-path metres, and the
    edges found leave exactly those nodes of odd degree."""
    net = town.net
    g: nx.Graph[int] = nx.Graph()
    for a, b, w in zip(net.a.tolist(), net.b.tolist(), net.weight_m.tolist(), strict=True):
        g.add_edge(a, b, weight=w)
    solver = TJoinSolver(net)
    rng = np.random.default_rng(7)
    for n in (2, 10, 40, 80):
        odd = np.sort(rng.choice(len(town.streets.node_xy), size=n, replace=False))
        found = solver.solve(odd)
        degree = np.zeros(len(town.streets.node_xy), dtype=np.int64)
        for a, b in found.edges:
            assert g.has_edge(a, b)
            degree[a] += 1
            degree[b] += 1
        assert np.flatnonzero(degree % 2).tolist() == odd.tolist()
        ours = sum(g[a][b]["weight"] for a, b in found.edges)
        complete: nx.Graph[int] = nx.Graph()
        for i, a in enumerate(odd.tolist()):
            dist = nx.single_source_dijkstra_path_length(g, a, weight="weight")
            for b in odd[i + 1 :].tolist():
                complete.add_edge(a, b, weight=dist[b])
        theirs = sum(complete[a][b]["weight"] for a, b in nx.min_weight_matching(complete))
        assert 0 < found.gap_m < 10
        assert ours == pytest.approx(theirs, abs=0.5)
        assert theirs - 1e-6 <= ours <= theirs + found.gap_m


def _walk_is_closed_and_follows_the_streets(town: PatrolTown, tour: Tour) -> None:
    assert tour.steps[0].a == tour.start
    assert tour.steps[-1].b == tour.start
    for s, t in zip(tour.steps[:-1], tour.steps[1:], strict=True):
        assert s.b == t.a
    for s in tour.steps:
        if s.segment >= 0:
            ends = {int(town.streets.u[s.segment]), int(town.streets.v[s.segment])}
            assert {s.a, s.b} <= ends


def _independent_postman_m(town: PatrolTown, segments: np.ndarray) -> float:
    """The street metres plus networkx's exact matching of the odd nodes on the town graph."""
    st = town.streets
    g: nx.Graph[int] = nx.Graph()
    for a, b, w in zip(
        town.net.a.tolist(), town.net.b.tolist(), town.net.weight_m.tolist(), strict=True
    ):
        g.add_edge(a, b, weight=w)
    degree = np.bincount(np.r_[st.u[segments], st.v[segments]], minlength=len(st.node_xy))
    odd = np.flatnonzero(degree % 2).tolist()
    complete: nx.Graph[int] = nx.Graph()
    for i, a in enumerate(odd):
        dist = nx.single_source_dijkstra_path_length(g, a, weight="weight")
        for b in odd[i + 1 :]:
            complete.add_edge(a, b, weight=dist[b])
    matched = nx.min_weight_matching(complete)
    return float(st.length_m[segments].sum() + sum(complete[a][b]["weight"] for a, b in matched))


def _one_piece_zone(town: PatrolTown, blocks: int) -> np.ndarray:
    """About this many blocks around the first block with streets, their streets one piece."""
    graph: nx.Graph[int] = nx.Graph(town.blocks.pairs.tolist())
    first = int(np.flatnonzero(town.blocks.road_m > 0)[0])
    return np.array(list(nx.bfs_tree(graph, first).nodes)[:blocks], dtype=np.int64)


def _connected_segments(town: PatrolTown, nodes: int) -> np.ndarray:
    """The segments among the first nodes reached from a node of the largest street piece:
    the largest connected set of them."""
    st = town.streets
    g: nx.MultiGraph[int] = nx.MultiGraph()
    for seg, (a, b) in enumerate(zip(st.u.tolist(), st.v.tolist(), strict=True)):
        g.add_edge(a, b, key=seg)
    biggest = max(nx.connected_components(g), key=len)
    first = min(biggest)
    near = set(list(nx.bfs_tree(g, first).nodes)[:nodes])
    sub = g.subgraph(near)
    piece = max(nx.connected_components(sub), key=len)
    return np.array(sorted(k for _, _, k in sub.subgraph(piece).edges(keys=True)), dtype=np.int64)


def test_route_is_the_exact_postman_length_and_walks_every_segment(town: PatrolTown) -> None:
    segments = _connected_segments(town, 150)
    st = town.streets
    g: nx.MultiGraph[int] = nx.MultiGraph()
    g.add_edges_from(zip(st.u[segments].tolist(), st.v[segments].tolist(), strict=True))
    assert nx.is_connected(g)
    tour = postman_tour(town.net, segments, int(st.u[segments[0]]))
    _walk_is_closed_and_follows_the_streets(town, tour)
    assert tour.covered == frozenset(segments.tolist())
    assert tour.matching_gap_m < 1e-3 * tour.route_m
    # one piece: the route is the postman tour, exactly (up to the solver's rounding bound)
    exact = _independent_postman_m(town, segments)
    assert exact - 1e-6 <= tour.route_m <= exact + tour.matching_gap_m
    assert tour.route_m == pytest.approx(exact, abs=0.5)
    # the length alone, without the walk, is the walk's length
    length_m, gap_m = postman_length(town.net, segments, int(st.u[segments[0]]))
    assert (length_m, gap_m) == pytest.approx((tour.route_m, tour.matching_gap_m))
    assert tour.route_m > tour.street_m


def test_a_zone_route_walks_every_segment_of_its_blocks(town: PatrolTown) -> None:
    units = _one_piece_zone(town, 60)
    tour = town.zone_tour(units)
    _walk_is_closed_and_follows_the_streets(town, tour)
    assert tour.covered == frozenset(town.segments_of(units).tolist())
    assert tour.route_m >= tour.street_m


def test_loops_fit_the_limit_start_at_the_station_and_are_near_equal(town: PatrolTown) -> None:
    units = _one_piece_zone(town, 120)
    tour = town.zone_tour(units)
    pace = Pace()
    dist, _ = town.net.distances(np.array([tour.start]))
    stop_at = np.zeros(len(tour.steps))
    total_h = float(pace.hours(tour.route_m))
    limit = total_h / 3
    loops = split_loops(tour, dist[0], limit_h=limit, pace=pace, stop_at=stop_at)
    assert len(loops) >= 3
    assert [lp.first for lp in loops[1:]] == [lp.end for lp in loops[:-1]]
    assert loops[0].first == 0
    assert loops[-1].end == len(tour.steps)
    hours = [lp.hours for lp in loops]
    assert max(hours) <= limit + 1e-9
    assert max(hours) / min(hours) <= 1.2
    with pytest.raises(LoopLimitError):
        split_loops(tour, dist[0], limit_h=0.01, pace=pace, stop_at=stop_at)


def test_zones_are_one_piece_cover_every_block_and_balance_road_metres(town: PatrolTown) -> None:
    units = np.arange(town.blocks.count)
    zones = propose_zones(town, units, 12, by="road_m")
    assert sorted(np.concatenate([z.units for z in zones]).tolist()) == units.tolist()
    for z in zones:
        # unary_union after closing gaps of 2 cm (village outlines drawn mm apart)
        grown = shapely.buffer(town.blocks.geoms[z.units], 0.01)
        assert len(shapely.get_parts(shapely.unary_union(grown))) == 1
        assert z.pieces == 1
    road = [z.road_m for z in zones]
    assert max(road) / min(road) <= 1.10
