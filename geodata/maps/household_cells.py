"""Households per H3 cell of a closed day, as the map shows them to roles without household
access: counted per building, summed per cell of resolution 9, published through
`geodata.disclosure` (small cells suppressed, the rest randomly rounded, the day frozen)."""

from __future__ import annotations

import functools
from datetime import date, datetime, time

import h3  # type: ignore[import-untyped]
import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, text

from geodata.auth.access import Principal
from geodata.disclosure.rules import FINEST_HEX_RESOLUTION
from geodata.disclosure.snapshots import publish, scope_key
from geodata.disclosure.tables import CountTable, Published, Unit
from geodata.records.as_of import last_visit_as_of
from geodata.town_time import TOWN_TIMEZONE

FIGURES = ("households", "never_visited", "unscreened")
RESOLUTION = FINEST_HEX_RESOLUTION

_PER_BUILDING = f"""
    SELECT ST_Y(p.at), ST_X(p.at), count(*),
           count(*) FILTER (WHERE lv.at IS NULL),
           count(*) FILTER (
               WHERE lv.at IS NULL
                  OR lv.at <= :as_of - make_interval(secs => CAST(:hours AS float8) * 3600))
    FROM buildings AS b
    CROSS JOIN LATERAL (SELECT ST_Centroid(b.geom) AS at) AS p
    JOIN households AS h ON h.building_id = b.id
    CROSS JOIN LATERAL (SELECT {last_visit_as_of("h", ":as_of")} AS at) AS lv
    WHERE (CAST(:scope AS bigint[]) IS NULL OR h.grid_id = ANY(:scope))
    GROUP BY b.id, p.at
"""  # noqa: S608 (the as-of fragment of geodata.records.as_of, constant arguments)


def _count(
    conn: Connection, grid_ids: frozenset[int] | None, day: date, window_h: float
) -> CountTable:
    as_of = datetime.combine(day, time.max, tzinfo=TOWN_TIMEZONE)
    scope = None if grid_ids is None else sorted(grid_ids)
    sums: dict[str, list[int]] = {}
    rows = conn.execute(text(_PER_BUILDING), {"as_of": as_of, "hours": window_h, "scope": scope})
    for lat, lon, *counts in rows:
        cell = h3.latlng_to_cell(lat, lon, RESOLUTION)
        total = sums.setdefault(cell, [0] * len(FIGURES))
        for i, c in enumerate(counts):
            total[i] += int(c)
    units = tuple(Unit(key=c, counts=tuple(sums[c])) for c in sorted(sums))
    return CountTable(level=f"h3r{RESOLUTION}", figures=FIGURES, units=units)


def household_cells(
    conn: Connection, principal: Principal, day: date, window_h: float
) -> Published:
    """The published households per cell of the principal's scope on closed day `day`,
    `unscreened` counting those not seen in the `window_h` hours up to its end."""
    _, table = publish(
        conn,
        name=f"households_map_by_hex{RESOLUTION}:w{window_h:g}",
        figures=FIGURES,
        scope=scope_key(principal.grid_ids),
        day=day,
        count=lambda: _count(conn, principal.grid_ids, day, window_h),
    )
    return table


@functools.lru_cache(maxsize=16)
def _outlines(cells: tuple[str, ...]) -> NDArray[np.object_]:
    """The cells' outlines in lon/lat, made once per published table (every tile of a day
    asks for the same cells)."""
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in cells]
    outlines: NDArray[np.object_] = shapely.polygons(rings)
    return outlines


def cells_meeting(
    table: Published, west: float, south: float, east: float, north: float
) -> list[tuple[str, bytes, list[int | None]]]:
    """The cells of `table` meeting a lon/lat box: each cell, its outline as WKB, figures."""
    cells = tuple(sorted(table))
    if not cells:
        return []
    outlines = _outlines(cells)
    meets = shapely.intersects(outlines, shapely.box(west, south, east, north))
    return [
        (cells[i], shapely.to_wkb(outlines[i]), table[cells[i]])
        for i in np.flatnonzero(meets).tolist()
    ]
