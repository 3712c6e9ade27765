"""Street blocks: the faces of the noded streets and village boundaries, with their workload.

A block's neighbours are the blocks it shares a boundary piece with (a street or a stretch of
village boundary of positive length); blocks that touch only at a corner share no piece and
are not neighbours. Each street segment belongs to exactly one block: the lowest-numbered
block it bounds, or the block it lies in (a dead end inside a block). A face with more road
than a zone can balance is cut into parts (`split.py`), each a block.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from geodata.analysis.patrols.split import SPLIT_M, split_block
from geodata.analysis.patrols.streets import Streets

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Geoms = NDArray[np.object_]

ON_EDGE_M = 0.02
"""A piece whose midpoint is this close to a block's boundary bounds that block: two villages'
outlines drawn a few millimetres apart leave a sliver between them (dropped, see
MIN_AREA_M2), and the blocks on either side are still neighbours."""

MIN_AREA_M2 = 1.0
"""Faces smaller than this are slivers of noding, not blocks."""

MIN_SHARED_M = 0.5
"""Blocks are neighbours when they share more boundary than this: less is a corner (noding
leaves pieces of a few micrometres where lines cross almost at a point)."""


@dataclass(frozen=True)
class Blocks:
    """Blocks (0..b-1): outline, area index (which village), workload and rook neighbours.

    `pairs` holds each pair of neighbours once (i < j) with the length of boundary they share.
    `segment_block` gives each street segment's block (-1: outside every block).
    """

    geoms: Geoms
    area: Ints
    households: Ints
    stops: Ints
    road_m: Floats
    pairs: Ints
    shared_m: Floats
    segment_block: Ints
    segment_other: Ints
    """The other block a street segment bounds (-1: none)."""

    @property
    def count(self) -> int:
        return len(self.geoms)

    def neighbours(self) -> list[list[int]]:
        """Each block's neighbours, sorted."""
        out: list[set[int]] = [set() for _ in range(self.count)]
        for a, b in self.pairs.tolist():
            out[a].add(b)
            out[b].add(a)
        return [sorted(n) for n in out]


def _count_in(geoms: Geoms, points_xy: Floats, weights: Ints) -> Ints:
    counts = np.zeros(len(geoms), dtype=np.int64)
    if len(points_xy) == 0 or len(geoms) == 0:
        return counts
    points = shapely.points(np.asarray(points_xy, dtype=float))
    found = shapely.STRtree(geoms).query(points, predicate="intersects")
    point, first = np.unique(found[0], return_index=True)  # a point on a shared edge counts once
    np.add.at(counts, found[1][first], np.asarray(weights, dtype=np.int64)[point])
    return counts


@dataclass(frozen=True)
class _Linked:
    """Faces with their neighbour pairs, shared metres and segments' blocks."""

    pairs: Ints
    shared_m: Floats
    segment_block: Ints
    segment_other: Ints
    road_m: Floats


def _link(streets: Streets, faces: Geoms, cuts: Geoms) -> _Linked:
    """Which faces each boundary piece (street, outline or cut between parts of a block)
    bounds: the neighbour pairs, and each street segment's block."""
    lines = np.concatenate([streets.lines, cuts]) if len(cuts) else streets.lines
    rings = shapely.boundary(faces)
    mids = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    touch = shapely.STRtree(rings).query(mids, predicate="dwithin", distance=ON_EDGE_M)
    piece, block = touch[0], touch[1]
    order = np.lexsort((block, piece))
    piece, block = piece[order], block[order]
    # every two blocks a piece bounds are neighbours (a piece may bound three or more where
    # outlines drawn millimetres apart meet)
    a_list, b_list, p_list = [], [], []
    for gap in range(1, 4):
        same = piece[gap:] == piece[:-gap]
        a_list.append(block[:-gap][same])
        b_list.append(block[gap:][same])
        p_list.append(piece[gap:][same])
    a, b = np.concatenate(a_list), np.concatenate(b_list)
    length = shapely.length(lines[np.concatenate(p_list)])
    pairs = np.column_stack([np.minimum(a, b), np.maximum(a, b)])
    if len(pairs):
        pairs, where = np.unique(pairs, axis=0, return_inverse=True)
        shared = np.zeros(len(pairs))
        np.add.at(shared, where.ravel(), length)
        pairs, shared = pairs[shared > MIN_SHARED_M], shared[shared > MIN_SHARED_M]
    else:
        pairs, shared = np.empty((0, 2), np.int64), np.empty(0)
    m = streets.count
    segment_block = np.full(m, -1, dtype=np.int64)
    first = np.ones(len(piece), dtype=bool)
    first[1:] = piece[1:] != piece[:-1]
    is_segment = piece < m
    segment_block[piece[first & is_segment]] = block[first & is_segment]
    segment_other = np.full(m, -1, dtype=np.int64)
    second = np.zeros(len(piece), dtype=bool)
    second[1:] = (piece[1:] == piece[:-1]) & first[:-1]
    segment_other[piece[second & is_segment]] = block[second & is_segment]
    loose = np.flatnonzero(segment_block < 0)
    if len(loose):  # dead ends inside a block
        within = shapely.STRtree(faces).query(mids[loose], predicate="within")
        segment_block[loose[within[0]]] = within[1]
    loose = np.flatnonzero(segment_block < 0)
    if len(loose) and len(faces):  # slivers the faces do not reach: the nearest block
        nearest = shapely.STRtree(faces).query_nearest(streets.segments[loose], all_matches=False)
        segment_block[loose[nearest[0]]] = nearest[1]
    road_m = np.zeros(len(faces))
    owned = segment_block >= 0
    np.add.at(road_m, segment_block[owned], streets.length_m[owned])
    return _Linked(pairs.astype(np.int64), shared, segment_block, segment_other, road_m)


def _split_heavy(
    streets: Streets, faces: Geoms, area: Ints, linked: _Linked
) -> tuple[Geoms, Ints, Geoms]:
    """Blocks with more road than SPLIT_M cut into parts (`split.py`): the faces and their
    areas after the cuts, and the cut lines between parts."""
    out_faces, out_area, cuts = list(faces.tolist()), list(area.tolist()), []
    for f in np.flatnonzero(linked.road_m > SPLIT_M).tolist():
        mine = np.flatnonzero(linked.segment_block == f)
        parts = split_block(faces[f], streets.segments[mine], float(linked.road_m[f]))
        if parts is None:
            continue
        out_faces[f] = parts[0]
        out_faces += parts[1:]
        out_area += [int(area[f])] * (len(parts) - 1)
        for a, b in itertools.combinations(parts, 2):
            between = shapely.intersection(a.boundary, b.boundary)
            lines = shapely.get_parts(shapely.line_merge(between) if between.length else between)
            cuts += [x for x in lines.tolist() if shapely.get_type_id(x) == 1]
    return (
        np.asarray(out_faces, dtype=object),
        np.asarray(out_area, dtype=np.int64),
        np.asarray(cuts, dtype=object),
    )


def street_blocks(
    streets: Streets,
    areas_m: Geoms,
    *,
    households_xy: Floats,
    households: Ints,
    stops_xy: Floats,
) -> Blocks:
    """Blocks of the areas (villages) with households (counts at points) and stops to pass."""
    areas = np.asarray(areas_m, dtype=object)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(streets.lines)), dtype=object)
    faces = faces[shapely.area(faces) >= MIN_AREA_M2]
    inside = shapely.point_on_surface(faces)
    found = shapely.STRtree(areas).query(inside, predicate="within")
    area = np.full(len(faces), -1, dtype=np.int64)
    area[found[0]] = found[1]
    keep = area >= 0
    faces, area = faces[keep], area[keep]
    linked = _link(streets, faces, np.empty(0, dtype=object))
    if (linked.road_m > SPLIT_M).any():
        faces, area, cuts = _split_heavy(streets, faces, area, linked)
        if len(cuts):
            linked = _link(streets, faces, cuts)
    return Blocks(
        geoms=faces,
        area=area,
        households=_count_in(faces, households_xy, households),
        stops=_count_in(faces, stops_xy, np.ones(len(stops_xy), dtype=np.int64)),
        road_m=linked.road_m,
        pairs=linked.pairs,
        shared_m=linked.shared_m,
        segment_block=linked.segment_block,
        segment_other=linked.segment_other,
    )
