"""The town's streets split at every shared node and crossing, and the lines that bound blocks.

OSM ways are not split where streets meet. The road lines (in a metric CRS) and the village
outlines are snapped to a grid of SNAP_M metres, the roads clipped to the town, and all of
them unioned (`shapely.union_all`): every piece then ends where it meets another line, and
lines that overlap (a road along a village outline) are kept once. Pieces that lie on a road
are street segments; the others are outline pieces. Segment ends that share a position are
one node of the street graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]
Geoms = NDArray[np.object_]

SNAP_M = 0.01
"""Road vertices are rounded to this grid before noding."""

ON_ROAD_M = 0.001
"""A noded piece whose midpoint is this close to a road is a street segment."""


@dataclass(frozen=True)
class Streets:
    """Street segments (numbered 0..m-1) between nodes (0..n-1), in metres.

    `lines` holds every noded piece: the segments first, then the boundary pieces (faces of
    all of them are the blocks).
    """

    segments: Geoms
    length_m: Floats
    u: Ints
    v: Ints
    node_xy: Floats
    lines: Geoms

    @property
    def count(self) -> int:
        return len(self.segments)

    def graph(self) -> nx.MultiGraph[int]:
        """The street multigraph: one edge per segment, key = segment number, weight = metres."""
        g: nx.MultiGraph[int] = nx.MultiGraph()
        g.add_nodes_from(range(len(self.node_xy)))
        for seg, (a, b, w) in enumerate(
            zip(self.u.tolist(), self.v.tolist(), self.length_m.tolist(), strict=True)
        ):
            g.add_edge(a, b, key=seg, weight=w)
        return g

    def simple_graph(self) -> nx.Graph[int]:
        """The shortest segment between each pair of nodes (for shortest paths); loops dropped."""
        g: nx.Graph[int] = nx.Graph()
        g.add_nodes_from(range(len(self.node_xy)))
        order = np.argsort(-self.length_m, kind="stable")  # the shortest is added last and kept
        for seg in order.tolist():
            a, b = int(self.u[seg]), int(self.v[seg])
            if a != b:
                g.add_edge(a, b, weight=float(self.length_m[seg]), segment=seg)
        return g


def _pieces(lines: Geoms) -> Geoms:
    parts = shapely.get_parts(np.asarray(lines, dtype=object))
    return np.asarray(parts[~shapely.is_empty(parts)], dtype=object)


def node_streets(roads_m: Geoms, areas_m: Geoms) -> Streets:
    """Split roads at every shared node and crossing, clipped to the areas' union (the town)."""
    town = shapely.union_all(np.asarray(areas_m, dtype=object))
    roads = shapely.set_precision(np.asarray(roads_m, dtype=object), SNAP_M)
    roads = _pieces(shapely.intersection(roads, town))
    roads = roads[shapely.get_type_id(roads) == 1]
    outlines = shapely.boundary(np.asarray(areas_m, dtype=object))
    boundary = _pieces(shapely.set_precision(outlines, SNAP_M))
    everything = np.concatenate([roads, boundary])
    if len(everything) == 0:
        empty = np.empty(0, dtype=object)
        return Streets(
            empty,
            np.empty(0),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty((0, 2)),
            empty,
        )
    # the union nodes every crossing and shared vertex and keeps one copy of lines that
    # overlap (a road along a village boundary, two ways drawn over each other)
    noded = shapely.get_parts(shapely.union_all(everything))
    noded = noded[shapely.length(noded) > 0]
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    tree = shapely.STRtree(roads)
    hit = tree.query(mid, predicate="dwithin", distance=ON_ROAD_M)
    on_road = np.zeros(len(noded), dtype=bool)
    on_road[hit[0]] = True
    segments, rest = noded[on_road], noded[~on_road]
    first = shapely.get_point(segments, 0)
    last = shapely.get_point(segments, -1)
    ends = np.concatenate([shapely.get_coordinates(first), shapely.get_coordinates(last)])
    cells = np.round(ends / SNAP_M).astype(np.int64)
    _, index, node_of = np.unique(cells, axis=0, return_index=True, return_inverse=True)
    node_of = node_of.ravel().astype(np.int64)
    m = len(segments)
    return Streets(
        segments=segments,
        length_m=np.asarray(shapely.length(segments), dtype=float),
        u=node_of[:m],
        v=node_of[m:],
        node_xy=ends[index],
        lines=np.concatenate([segments, rest]),
    )
