"""Where everything of a synthetic town stands: villages, grids, compounds, buildings, gates.

Villages are equal squares side by side in rows; each village is cut into
rectangular grids of equal area (rows of grids, wider rows holding more
grids) so that the grids partition it exactly: neighbours share the very same
floating-point coordinates. Compounds sit in a lattice inside their grid and
buildings in a lattice inside their compound, each inset in its cell, so no
two overlap. All arrays are in longitude/latitude (SRID 4326).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from geodata.samples.sorted_groups import position_in_group

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_AT_EQUATOR = 111_320.0
AREA_PER_HOUSEHOLD_M2 = 350.0
MIN_VILLAGE_SIDE_M = 200.0

BUILDING_HOUSEHOLDS = np.array([1, 2, 3, 4, 5], dtype=np.int64)
BUILDING_HOUSEHOLDS_P = np.array([0.1, 0.2, 0.4, 0.2, 0.1])
"""Households per building: 3 on average."""

COMPOUND_BUILDINGS = (6, 13)
"""Buildings per compound, drawn per grid from this half-open range."""

COMPOUND_ENTRANCES_P = np.array([0.15, 0.45, 0.3, 0.1])
"""Probability of a compound having 1, 2, 3 or 4 entrances (one per side)."""

MIN_VILLAGE_ENTRANCES = 4


@dataclass(frozen=True)
class TownCounts:
    households: int
    villages: int
    grids: int
    checkpoints: int


@dataclass(frozen=True)
class Layout:
    """Indices (0-based) linking each feature to its parent, and the features' coordinates.

    Bounds are (n, 4) arrays of xmin, ymin, xmax, ymax; points are (n, 2).
    """

    village_bounds: Floats
    village_col_row: Ints
    village_layout: tuple[int, int]
    grid_village: Ints
    grid_bounds: Floats
    grid_row_col: Ints
    compound_grid: Ints
    compound_bounds: Floats
    building_compound: Ints
    building_grid: Ints
    building_households: Ints
    building_index: Ints
    """Number of each building in its compound, from 0."""
    building_bounds: Floats
    compound_entrance_compound: Ints
    compound_entrance_side: Ints
    compound_entrance_xy: Floats
    village_entrance_village: Ints
    village_entrance_index: Ints
    """Number of each village entrance in its village, from 0."""
    village_entrance_side: Ints
    village_entrance_xy: Floats
    checkpoint_village: Ints
    checkpoint_index: Ints
    """Number of each checkpoint in its village; checkpoint k stands at village entrance k."""


def lerp(a: Floats, b: Floats, t: Floats) -> Floats:
    """a at t=0 and b at t=1, both exactly: shared edges get identical coordinates."""
    return (1.0 - t) * a + t * b


def spread(total: int, parts: int) -> Ints:
    """Which of ``parts`` consecutive, near-equal parts each of ``total`` items falls in."""
    return (np.arange(total, dtype=np.int64) * parts) // max(total, 1)


def _building_households(rng: np.random.Generator, households: int) -> Ints:
    """Households of each building, summing to exactly ``households``."""
    draw = rng.choice(BUILDING_HOUSEHOLDS, households, p=BUILDING_HOUSEHOLDS_P)
    total = np.cumsum(draw)
    n = int(np.searchsorted(total, households)) + 1
    sizes = draw[:n].copy()
    sizes[-1] -= int(total[n - 1]) - households
    return sizes


def _villages(
    counts: TownCounts, origin: tuple[float, float], side_m: float
) -> tuple[Floats, Ints, tuple[int, int]]:
    cols = int(np.ceil(np.sqrt(counts.villages)))
    rows = -(-counts.villages // cols)
    lon0, lat0 = origin
    dlon = side_m / (M_PER_DEG_LON_AT_EQUATOR * np.cos(np.radians(lat0)))
    dlat = side_m / M_PER_DEG_LAT
    xs = lon0 + np.arange(cols + 1) * dlon
    ys = lat0 + np.arange(rows + 1) * dlat
    v = np.arange(counts.villages)
    col, row = v % cols, v // cols
    bounds = np.stack([xs[col], ys[row], xs[col + 1], ys[row + 1]], axis=1)
    return bounds, np.stack([col, row], axis=1), (cols, rows)


def _grids(grid_village: Ints, village_bounds: Floats, villages: int) -> tuple[Floats, Ints]:
    """Rows of grids in each village; a row of c grids is c/n of the village high."""
    n_of_village = np.bincount(grid_village, minlength=villages).astype(np.int64)
    n = n_of_village[grid_village]
    k = position_in_group(n_of_village)
    nrows = np.maximum(1, np.rint(np.sqrt(n))).astype(np.int64)
    q, extra = n // nrows, n % nrows
    big = extra * (q + 1)
    in_big = k < big
    row = np.where(in_big, k // (q + 1), extra + (k - big) // q)
    col = np.where(in_big, k % (q + 1), (k - big) % q)
    ncol = np.where(row < extra, q + 1, q)
    before = row * q + np.minimum(row, extra)
    vb = village_bounds[grid_village]
    bounds = np.stack(
        [
            lerp(vb[:, 0], vb[:, 2], col / ncol),
            lerp(vb[:, 1], vb[:, 3], before / n),
            lerp(vb[:, 0], vb[:, 2], (col + 1) / ncol),
            lerp(vb[:, 1], vb[:, 3], (before + ncol) / n),
        ],
        axis=1,
    )
    return bounds, np.stack([row, col], axis=1)


def _lattice(n: Ints, bounds: Floats, m_per_deg: tuple[float, float]) -> tuple[Ints, Ints]:
    """Columns and rows of a near-square lattice of at least n cells in each rectangle."""
    width = (bounds[:, 2] - bounds[:, 0]) * m_per_deg[0]
    height = (bounds[:, 3] - bounds[:, 1]) * m_per_deg[1]
    need = np.maximum(n, 1)
    cols = np.clip(np.ceil(np.sqrt(need * width / height)), 1, need).astype(np.int64)
    rows = -(-need // cols)
    return cols, rows


def _cells(outer: Floats, index: Ints, cols: Ints, rows: Ints, margins: Floats) -> Floats:
    """Cell ``index`` of a cols x rows lattice over each ``outer`` box, inset by fractions.

    ``margins`` holds, per cell, the fraction of the cell's width or height left
    free at its left, bottom, right and top.
    """
    c, r = index % cols, index // cols
    x0 = lerp(outer[:, 0], outer[:, 2], c / cols)
    x1 = lerp(outer[:, 0], outer[:, 2], (c + 1) / cols)
    y0 = lerp(outer[:, 1], outer[:, 3], r / rows)
    y1 = lerp(outer[:, 1], outer[:, 3], (r + 1) / rows)
    return np.stack(
        [
            lerp(x0, x1, margins[:, 0]),
            lerp(y0, y1, margins[:, 1]),
            lerp(x0, x1, 1.0 - margins[:, 2]),
            lerp(y0, y1, 1.0 - margins[:, 3]),
        ],
        axis=1,
    )


def side_points(bounds: Floats, side: Ints, frac: Floats) -> Floats:
    """Points on the boundary of boxes: side 0 south, 1 east, 2 north, 3 west, counter-clockwise.

    ``frac`` is the position along the side, walking counter-clockwise.
    """
    x0, y0, x1, y1 = bounds.T
    x = np.select(
        [side == 0, side == 1, side == 2], [lerp(x0, x1, frac), x1, lerp(x1, x0, frac)], x0
    )
    y = np.select(
        [side == 0, side == 1, side == 2], [y0, lerp(y0, y1, frac), y1], lerp(y1, y0, frac)
    )
    return np.stack([x, y], axis=1)


def build_layout(
    rng: np.random.Generator, counts: TownCounts, origin: tuple[float, float]
) -> Layout:
    """Place every village, grid, compound, building and entrance of a town."""
    m_per_deg = (M_PER_DEG_LON_AT_EQUATOR * np.cos(np.radians(origin[1])), M_PER_DEG_LAT)

    households = _building_households(rng, counts.households)
    before = np.cumsum(households) - households
    building_grid = (before * counts.grids) // counts.households
    grid_village = spread(counts.grids, counts.villages)

    per_village = np.bincount(
        grid_village[building_grid], weights=households, minlength=counts.villages
    )
    side_m = max(MIN_VILLAGE_SIDE_M, float(np.sqrt(per_village.max() * AREA_PER_HOUSEHOLD_M2)))
    village_bounds, village_col_row, village_layout = _villages(counts, origin, side_m)
    grid_bounds, grid_row_col = _grids(grid_village, village_bounds, counts.villages)

    # Compounds: a lattice in each grid, each compound inset in its cell.
    buildings_of_grid = np.bincount(building_grid, minlength=counts.grids).astype(np.int64)
    per_compound = rng.integers(*COMPOUND_BUILDINGS, counts.grids)
    compounds_of_grid = -(-buildings_of_grid // per_compound)
    compound_grid = np.repeat(np.arange(counts.grids), compounds_of_grid)
    first_compound = np.cumsum(compounds_of_grid) - compounds_of_grid
    q = position_in_group(compounds_of_grid)
    cols, rows = _lattice(compounds_of_grid, grid_bounds, m_per_deg)
    compound_bounds = _cells(
        grid_bounds[compound_grid],
        q,
        cols[compound_grid],
        rows[compound_grid],
        rng.uniform(0.06, 0.16, (len(compound_grid), 4)),
    )

    # Buildings: a lattice in each compound, each inset in its cell.
    j = position_in_group(buildings_of_grid)
    k = per_compound[building_grid]
    local_compound = j // k
    building_compound = first_compound[building_grid] + local_compound
    building_index = j % k
    in_compound = np.minimum(k, buildings_of_grid[building_grid] - local_compound * k)
    bcols, brows = _lattice(in_compound, compound_bounds[building_compound], m_per_deg)
    building_bounds = _cells(
        compound_bounds[building_compound],
        building_index,
        bcols,
        brows,
        rng.uniform(0.1, 0.3, (len(building_grid), 4)),
    )

    # Compound entrances: one at the middle of each of 1-4 sides.
    n_entrances = 1 + rng.choice(4, len(compound_grid), p=COMPOUND_ENTRANCES_P)
    entrance_compound = np.repeat(np.arange(len(compound_grid)), n_entrances)
    turn = rng.integers(0, 4, len(compound_grid))
    e = position_in_group(n_entrances)
    entrance_side = (e + turn[entrance_compound]) % 4
    entrance_xy = side_points(
        compound_bounds[entrance_compound], entrance_side, np.full(len(e), 0.5)
    )

    # Village entrances: spaced around the boundary, the first ones staffed by checkpoints.
    checkpoint_village = spread(counts.checkpoints, counts.villages)
    checkpoints_of_village = np.bincount(checkpoint_village, minlength=counts.villages)
    checkpoint_index = position_in_group(checkpoints_of_village)
    gates = np.maximum(MIN_VILLAGE_ENTRANCES, checkpoints_of_village + 2)
    gate_village = np.repeat(np.arange(counts.villages), gates)
    gate_index = position_in_group(gates)
    # An offset of 0.3 step never lands on a corner and never meets a neighbour's gate.
    around = (gate_index + 0.3) * 4.0 / gates[gate_village]
    gate_side = np.floor(around).astype(np.int64)
    gate_xy = side_points(village_bounds[gate_village], gate_side, around - gate_side)

    return Layout(
        village_bounds=village_bounds,
        village_col_row=village_col_row,
        village_layout=village_layout,
        grid_village=grid_village,
        grid_bounds=grid_bounds,
        grid_row_col=grid_row_col,
        compound_grid=compound_grid,
        compound_bounds=compound_bounds,
        building_compound=building_compound,
        building_grid=building_grid,
        building_households=households,
        building_index=building_index,
        building_bounds=building_bounds,
        compound_entrance_compound=entrance_compound,
        compound_entrance_side=entrance_side,
        compound_entrance_xy=entrance_xy,
        village_entrance_village=gate_village,
        village_entrance_index=gate_index,
        village_entrance_side=gate_side,
        village_entrance_xy=gate_xy,
        checkpoint_village=checkpoint_village,
        checkpoint_index=checkpoint_index,
    )
