"""The shape of a zone: its outline, how many pieces, Polsby-Popper compactness."""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import NDArray

Geoms = NDArray[np.object_]

GRID_M = 0.01
"""Blocks are unioned on this grid, so that edges they share exactly dissolve."""

SLIVER_M = 0.02
"""Gaps narrower than twice this between blocks close: two villages' outlines drawn a few
millimetres apart leave such slivers between their blocks."""


def zone_outline(blocks_m: Geoms) -> shapely.Geometry:
    """The union of a zone's blocks (metres), slivers between them closed."""
    grown = shapely.buffer(np.asarray(blocks_m, dtype=object), SLIVER_M, join_style="mitre")
    merged = shapely.union_all(grown, grid_size=GRID_M)
    return shapely.buffer(merged, -SLIVER_M, join_style="mitre")


def pieces(outline: shapely.Geometry) -> int:
    """Parts of the outline (1: the zone is one piece)."""
    return 0 if shapely.is_empty(outline) else len(shapely.get_parts(outline))


def polsby_popper(outline: shapely.Geometry) -> float:
    """4 pi area / perimeter squared: 1 for a disc, towards 0 for long or ragged shapes."""
    perimeter = float(shapely.length(outline))
    return 0.0 if perimeter <= 0 else 4.0 * math.pi * float(shapely.area(outline)) / perimeter**2
