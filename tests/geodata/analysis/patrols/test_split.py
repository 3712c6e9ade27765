"""Blocks with more road than SPLIT_M, cut into parts, on the sample town: the parts against
the whole faces they come from, computed here with the cut turned off."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

import geodata.analysis.patrols.blocks as blocks_module
from geodata.analysis.patrols.blocks import Blocks, street_blocks
from geodata.analysis.patrols.split import SPLIT_M
from geodata.analysis.patrols.streets import Streets, node_streets
from geodata.records.patrol_inputs import PatrolInputs, fetch_patrol_inputs
from tests import conftest


@pytest.fixture(scope="module")
def inputs(sample_db: conftest.TestDatabase) -> PatrolInputs:
    with sample_db.owner.connect() as conn:
        return fetch_patrol_inputs(conn)


@pytest.fixture(scope="module")
def streets(inputs: PatrolInputs) -> Streets:
    return node_streets(inputs.roads_m, inputs.villages_m)


def _blocks(streets: Streets, inputs: PatrolInputs) -> Blocks:
    return street_blocks(
        streets,
        inputs.villages_m,
        households_xy=inputs.households_xy,
        households=inputs.households,
        stops_xy=inputs.stops_xy,
    )


@pytest.fixture(scope="module")
def whole(streets: Streets, inputs: PatrolInputs) -> Blocks:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks_module, "SPLIT_M", float("inf"))
        return _blocks(streets, inputs)


@pytest.fixture(scope="module")
def cut(streets: Streets, inputs: PatrolInputs) -> Blocks:
    return _blocks(streets, inputs)


def test_heavy_blocks_are_cut_and_nothing_is_lost(whole: Blocks, cut: Blocks) -> None:
    heavy = int((whole.road_m > SPLIT_M).sum())
    assert heavy >= 5  # the sample has rural faces of up to 22.6 km of road
    assert cut.count > whole.count
    assert cut.road_m.max() < 0.5 * whole.road_m.max()
    assert int((cut.road_m > SPLIT_M).sum()) < heavy
    # the same ground, streets and households, in more blocks
    assert shapely.area(cut.geoms).sum() == pytest.approx(shapely.area(whole.geoms).sum())
    assert cut.road_m.sum() == pytest.approx(whole.road_m.sum())
    assert cut.households.sum() == whole.households.sum()
    assert cut.stops.sum() == whole.stops.sum()
    assert set(shapely.get_type_id(cut.geoms).tolist()) == {3}  # every block one polygon


def test_each_part_lies_in_its_face_holds_its_segments_and_touches_its_siblings(
    streets: Streets, whole: Blocks, cut: Blocks
) -> None:
    tree = shapely.STRtree(whole.geoms)
    inside = shapely.point_on_surface(cut.geoms)
    face_of = np.full(cut.count, -1, dtype=np.int64)
    found = tree.query(inside, predicate="within")
    face_of[found[0]] = found[1]
    assert (face_of >= 0).all()
    graph: nx.Graph[int] = nx.Graph(cut.pairs.tolist())
    graph.add_nodes_from(range(cut.count))
    split = [f for f in range(whole.count) if (face_of == f).sum() > 1]
    assert split
    for f in split:
        parts = np.flatnonzero(face_of == f)
        # the parts tile the face
        assert shapely.area(cut.geoms[parts]).sum() == pytest.approx(
            shapely.area(whole.geoms[f]), rel=1e-6
        )
        assert shapely.area(
            shapely.symmetric_difference(shapely.union_all(cut.geoms[parts]), whole.geoms[f])
        ) < 1e-3 * shapely.area(whole.geoms[f])
        # the face's segments, each now with one of its parts or (on the border) with the
        # other face it bounds, on or in that block
        mine = np.flatnonzero(whole.segment_block == f)
        for s in mine.tolist():
            assert int(face_of[cut.segment_block[s]]) in {f, int(whole.segment_other[s])}
            part = cut.geoms[cut.segment_block[s]]
            mid = shapely.line_interpolate_point(streets.segments[s], 0.5, normalized=True)
            assert shapely.distance(part, mid) < 0.05
        # the parts are neighbours of one another: the face stays one piece in the graph
        assert nx.is_connected(graph.subgraph(parts.tolist()))
    # and of the face's neighbours
    for a, b in whole.pairs.tolist():
        if a in split or b in split:
            pa, pb = set(np.flatnonzero(face_of == a)), set(np.flatnonzero(face_of == b))
            assert any(graph.has_edge(int(x), int(y)) for x in pa for y in pb), (a, b)
