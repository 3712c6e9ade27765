"""The households tiles' hexagon figures kept as a cache (table `household_hexagons`).

Per zoom from HOUSEHOLDS_MIN_ZOOM up to HOUSEHOLDS_PER_BUILDING_ZOOM, per hexagon of the tiles'
lattice and per grid, the households of the buildings whose centroid lies in the hexagon:
how many, how many never visited, and the latest visit of each of the others, sorted. A tile
then sums a few hundred rows instead of joining every building and household under it, and
the households not seen in a window up to a moment are `never_visited + width_bucket(moment -
window, last_visits)`: the same as-of function the live query computes, exact whenever the
moment is at or after the latest visit of the hexagon (`max_visit`); before it, the tile is
computed live.

Writes keep it honest: triggers on households (statement level) and buildings mark the cells
of the buildings they touch stale (`household_hexagons_stale`), or the whole cache when a
statement changes many (`household_hexagons_state.rebuild`). `refresh` recomputes what is
stale, under an advisory lock, before a tile reads the cache.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth.rls import as_town

ZOOMS = (11, 12, 13, 14)
"""The zooms whose households tiles count per hexagon (HOUSEHOLDS_MIN_ZOOM to
HOUSEHOLDS_PER_BUILDING_ZOOM - 1 of geodata.maps.tiles)."""
LOCK_KEY = 0x77616E6767650001
"""pg_advisory_xact_lock key of the refresh (one refresher at a time, in any process)."""

_COLUMNS = "z, i, j, grid_id, building_grid_id, households, never_visited, last_visits, max_visit"
_FIGURES = """
    count(*)::int,
    (count(*) FILTER (WHERE h.last_visited_at IS NULL))::int,
    coalesce(
        array_agg(h.last_visited_at ORDER BY h.last_visited_at)
            FILTER (WHERE h.last_visited_at IS NOT NULL),
        '{}'
    ),
    max(h.last_visited_at)
"""
REBUILD_SQL = f"""
    INSERT INTO household_hexagons ({_COLUMNS})
    SELECT z.z, c.i, c.j, h.grid_id, b.grid_id, {_FIGURES}
    FROM buildings AS b
    JOIN households AS h ON h.building_id = b.id
    CROSS JOIN LATERAL (SELECT ST_Centroid(b.geom_3857) AS p) AS p
    CROSS JOIN unnest(CAST(:zooms AS int[])) AS z(z)
    CROSS JOIN LATERAL hexagon_cell(ST_X(p.p), ST_Y(p.p), hexagon_size(z.z)) AS c
    GROUP BY z.z, c.i, c.j, h.grid_id, b.grid_id
"""  # noqa: S608 (constant fragments of this module)
STALE_SQL = f"""
    WITH cells AS (DELETE FROM household_hexagons_stale RETURNING z, i, j),
    gone AS (
        DELETE FROM household_hexagons AS x USING cells AS c
        WHERE x.z = c.z AND x.i = c.i AND x.j = c.j
    )
    INSERT INTO household_hexagons ({_COLUMNS})
    SELECT c.z, c.i, c.j, h.grid_id, b.grid_id, {_FIGURES}
    FROM cells AS c
    CROSS JOIN LATERAL (SELECT hexagon_size(c.z) AS s) AS s
    JOIN buildings AS b
      ON b.geom && ST_Transform(ST_Envelope(ST_SetSRID(ST_Hexagon(s.s, c.i, c.j), 3857)), 4326)
    JOIN households AS h ON h.building_id = b.id
    CROSS JOIN LATERAL (SELECT ST_Centroid(b.geom_3857) AS p) AS p
    CROSS JOIN LATERAL hexagon_cell(ST_X(p.p), ST_Y(p.p), s.s) AS cell
    WHERE cell.i = c.i AND cell.j = c.j
    GROUP BY c.z, c.i, c.j, h.grid_id, b.grid_id
"""  # noqa: S608 (constant fragments of this module)


def refresh(conn: Connection, *, wait: bool = True) -> dict[str, Any]:
    """Bring the cache up to date in this transaction (town-wide: it reads every grid):
    rebuilt whole when marked so, else the stale cells recomputed. Returns what was done.
    With `wait` false, does nothing (`"busy": True`) while another transaction refreshes:
    a tile then is computed live rather than wait for a rebuild."""
    as_town(conn)
    conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    if not wait:
        if not conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}
        ).scalar_one():
            return {"busy": True}
    else:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    rebuild = conn.execute(
        text("SELECT rebuild FROM household_hexagons_state FOR UPDATE")
    ).scalar_one()
    if rebuild:
        conn.execute(text("DELETE FROM household_hexagons_stale"))
        conn.execute(text("DELETE FROM household_hexagons"))
        rows = conn.execute(text(REBUILD_SQL), {"zooms": list(ZOOMS)}).rowcount
        conn.execute(text("UPDATE household_hexagons_state SET rebuild = false, built_at = now()"))
        return {"rebuilt": True, "cells": None, "rows": rows}
    cells = conn.execute(text("SELECT count(*) FROM household_hexagons_stale")).scalar_one()
    if not cells:
        return {"rebuilt": False, "cells": 0, "rows": 0}
    rows = conn.execute(text(STALE_SQL)).rowcount
    return {"rebuilt": False, "cells": int(cells), "rows": rows}


def is_stale(conn: Connection) -> bool:
    """Whether a write since the last refresh has left anything to recompute."""
    return bool(
        conn.execute(
            text(
                "SELECT rebuild OR EXISTS (SELECT 1 FROM household_hexagons_stale)"
                " FROM household_hexagons_state"
            )
        ).scalar_one()
    )


def covers(conn: Connection, z: int, bounds: tuple[int, int, int, int], as_of: datetime) -> bool:
    """Whether the cached cells (i0, i1, j0, j1) of zoom `z` hold the figures as of `as_of`:
    no visit in them after that moment (the cache keeps each household's latest visit)."""
    i0, i1, j0, j1 = bounds
    return bool(
        conn.execute(
            text(
                "SELECT coalesce(max(max_visit) <= :as_of, true) FROM household_hexagons"
                " WHERE z = :z AND i BETWEEN :i0 AND :i1 AND j BETWEEN :j0 AND :j1"
            ),
            {"z": z, "i0": i0, "i1": i1, "j0": j0, "j1": j1, "as_of": as_of},
        ).scalar_one()
    )
