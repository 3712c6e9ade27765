"""Vector tiles of the dense layers, composed by PostGIS: buildings, and households counted
per building, per hexagon below zoom 15, or (for a role without household access) per
published H3 cell of a closed day.

The tile queries encode `buildings.geom_3857`, the outline already in Web Mercator (a stored
column PostgreSQL computes from `geom`), so no outline is reprojected per request. The
candidates are the outlines whose box meets the tile's envelope widened by the buffer, found
through the GiST index on `geom`: a Web Mercator tile is a longitude/latitude rectangle too,
so its envelope brought to EPSG:4326 selects the same outlines, and no second index has to
be kept up on every write. `ST_AsMVTGeom` snaps to the tile's grid, drops repeated points and
clips; its result is never filtered on (`ST_AsMVT` skips empty geometries), since a filter
on it makes PostgreSQL compute it twice. The caller applies the principal's scope (row-level
security) to the connection first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, text

from geodata.auth.access import Action, Principal
from geodata.maps import hexagon_cache
from geodata.maps.household_cells import cells_meeting, household_cells
from geodata.records.as_of import last_visit_as_of

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
BUILDINGS_MIN_ZOOM = 14
HOUSEHOLDS_MIN_ZOOM = 11
HOUSEHOLDS_PER_BUILDING_ZOOM = 15
"""From this zoom on, households are counted per building; below it, per hexagon."""
HEXAGONS_PER_TILE = 12
"""Hexagon size below HOUSEHOLDS_PER_BUILDING_ZOOM: this many across a tile."""


@dataclass(frozen=True)
class TileKey:
    z: int
    x: int
    y: int


def _scope_filter(column: str, who: Principal) -> str:
    return "" if who.town_wide else f"AND {column} = ANY(CAST(:grid_ids AS bigint[]))"


def _tile_candidates(alias: str) -> str:
    """Buildings whose box meets the tile, buffer included: the GiST index on geom answers."""
    envelope = f"ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT})"
    return f"{alias}.geom && ST_Transform({envelope}, 4326)"


def buildings_sql(who: Principal) -> str:
    return f"""
        SELECT ST_AsMVT(q, 'buildings', {EXTENT}, 'geom', 'id')
        FROM (
            SELECT b.id, b.floors,
                   ST_AsMVTGeom(b.geom_3857, ST_TileEnvelope(:z, :x, :y), {EXTENT}, {BUFFER}, true)
                       AS geom
            FROM buildings AS b
            WHERE {_tile_candidates("b")}
            {_scope_filter("b.grid_id", who)}
        ) AS q
    """  # noqa: S608 (tile constants and SQL fragments of this module; tile, scope and as_of are bound)


def _household_counts(who: Principal, buildings_from: str) -> str:
    """Households of the buildings in `buildings_from` (alias b: id, the point px, py that
    stands for the building), counted per building."""
    return f"""
        SELECT b.id AS building_id, b.px, b.py,
               count(*) AS households,
               count(*) FILTER (WHERE lv.at IS NULL) AS never_visited,
               count(*) FILTER (
                   WHERE lv.at IS NULL
                      OR lv.at <= CAST(:as_of AS timestamptz)
                                  - make_interval(secs => CAST(:hours AS float8) * 3600)
               ) AS unscreened
        FROM {buildings_from}
        JOIN households AS h ON h.building_id = b.id
        CROSS JOIN LATERAL (SELECT {last_visit_as_of("h", ":as_of")} AS at) AS lv
        WHERE true {_scope_filter("h.grid_id", who)}
        GROUP BY b.id, b.px, b.py
    """  # noqa: S608 (tile constants and SQL fragments of this module; tile, scope and as_of are bound)


def households_sql(who: Principal, z: int) -> str:
    """Households per building (a point on its outline) from HOUSEHOLDS_PER_BUILDING_ZOOM on,
    else per hexagon (of building centroids), computed live from the records."""
    if z >= HOUSEHOLDS_PER_BUILDING_ZOOM:
        buildings = f"""
            (SELECT b.id, ST_X(p.at) AS px, ST_Y(p.at) AS py
             FROM buildings AS b, LATERAL (SELECT ST_PointOnSurface(b.geom_3857) AS at) AS p
             WHERE {_tile_candidates("b")} {_scope_filter("b.grid_id", who)}) AS b
        """  # noqa: S608 (tile constants and SQL fragments of this module; tile, scope and as_of are bound)
        return f"""
            WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
            counts AS ({_household_counts(who, buildings)})
            SELECT ST_AsMVT(q, 'households', {EXTENT}, 'geom')
            FROM (
                SELECT c.building_id, c.households, c.never_visited, c.unscreened,
                       ST_AsMVTGeom(
                           ST_SetSRID(ST_MakePoint(c.px, c.py), 3857),
                           env.e, {EXTENT}, {BUFFER}, true
                       ) AS geom
                FROM counts AS c, env
                WHERE c.unscreened > 0
            ) AS q
        """  # noqa: S608 (tile constants and SQL fragments of this module; tile, scope and as_of are bound)
    return f"""
        WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
        size AS (SELECT hexagon_size(:z) AS s),
        counts AS ({_household_counts(who, _hexagon_buildings(who))}),
        binned AS (
            SELECT c.households, c.never_visited, c.unscreened, cell.i, cell.j
            FROM counts AS c, size AS z, LATERAL hexagon_cell(c.px, c.py, z.s) AS cell
        )
        {_hexagon_features("binned", "h.unscreened")}
    """  # noqa: S608 (tile constants and SQL fragments of this module; tile, scope and as_of are bound)


HEXAGON_MARGIN = 0.1
"""How far past the tile (a share of its width) the live hexagon query takes buildings: more
than a hexagon's width (2 / (12 sqrt 3) = 0.096), so that each hexagon meeting the tile is
counted whole, as the cache counts it, not only the part of it inside the tile."""


def _hexagon_buildings(who: Principal) -> str:
    # Each building's centroid goes to the hexagon of ST_HexagonGrid's lattice (flat-topped,
    # edge `s`, anchored at 0,0; column i has its centres at x = 1.5 s i and, odd columns
    # half a row up, y = sqrt(3) s (j + i mod 2 / 2)) whose centre is nearest: the SQL
    # function hexagon_cell (migration 0020), arithmetic per building, no join of every
    # building with every hexagon; only hexagons holding someone are drawn.
    envelope = f"ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT + HEXAGON_MARGIN})"
    return f"""
        (SELECT b.id, ST_X(p.at) AS px, ST_Y(p.at) AS py
         FROM buildings AS b, LATERAL (SELECT ST_Centroid(b.geom_3857) AS at) AS p
         WHERE b.geom && ST_Transform({envelope}, 4326) {_scope_filter("b.grid_id", who)}) AS b
    """  # noqa: S608 (tile constants and SQL fragments of this module; tile, scope and as_of are bound)


def _hexagon_features(source: str, unscreened: str) -> str:
    """The tile of hexagons (i, j) summed from `source` (alias h), in (i, j) order."""
    return f"""
        SELECT ST_AsMVT(q, 'households', {EXTENT}, 'geom')
        FROM (
            SELECT sum(h.households)::int AS households,
                   sum(h.never_visited)::int AS never_visited,
                   sum({unscreened})::int AS unscreened,
                   ST_AsMVTGeom(
                       ST_SetSRID(ST_Hexagon(z.s, h.i, h.j), 3857), env.e, {EXTENT}, {BUFFER}, true
                   ) AS geom
            FROM {source} AS h, size AS z, env
            GROUP BY h.i, h.j, z.s, env.e
            HAVING sum({unscreened}) > 0
            ORDER BY h.i, h.j
        ) AS q
    """  # noqa: S608 (tile constants and SQL fragments of this module)


def cached_hexagons_sql(who: Principal) -> str:
    """The hexagon tile from the cache (geodata.maps.hexagon_cache): the cells `:i0`-`:i1`,
    `:j0`-`:j1`, the households not seen in the `:hours` up to `:as_of` counted by width_bucket
    over each cell's latest visits."""
    scope = _scope_filter("h.grid_id", who) + " " + _scope_filter("h.building_grid_id", who)
    source = f"""
        (SELECT h.i, h.j, h.households, h.never_visited,
                h.never_visited + width_bucket(
                    CAST(:as_of AS timestamptz)
                        - make_interval(secs => CAST(:hours AS float8) * 3600),
                    h.last_visits
                ) AS unscreened
         FROM household_hexagons AS h
         WHERE h.z = :z AND h.i BETWEEN :i0 AND :i1 AND h.j BETWEEN :j0 AND :j1 {scope})
    """  # noqa: S608 (tile constants and SQL fragments of this module; tile, scope and as_of are bound)
    return f"""
        WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
        size AS (SELECT hexagon_size(:z) AS s)
        {_hexagon_features(source, "h.unscreened")}
    """


WEB_MERCATOR_HALF = 20037508.342789244


def hexagon_bounds(tile: TileKey) -> tuple[int, int, int, int]:
    """The hexagon cells (i0, i1, j0, j1) whose hexagon may meet the tile or its buffer."""
    width = 2 * WEB_MERCATOR_HALF / 2**tile.z
    s = width / HEXAGONS_PER_TILE / math.sqrt(3)
    reach = width * BUFFER / EXTENT + s
    xmin = -WEB_MERCATOR_HALF + tile.x * width - reach
    xmax = xmin + width + 2 * reach
    ymax = WEB_MERCATOR_HALF - tile.y * width + reach
    ymin = ymax - width - 2 * reach
    row = math.sqrt(3) * s
    return (
        math.floor(xmin / (1.5 * s)) - 1,
        math.ceil(xmax / (1.5 * s)) + 1,
        math.floor(ymin / row) - 1,
        math.ceil(ymax / row) + 1,
    )


BUILDINGS_GENERATION = "(SELECT generation FROM tile_generations WHERE layer = 'buildings')"
"""Moved on by every statement that writes buildings (a trigger): no count over the table."""

VERSION_SQL = {
    "buildings": f"SELECT {BUILDINGS_GENERATION}",
    "households": f"""
        SELECT concat_ws(':',
            {BUILDINGS_GENERATION},
            (SELECT concat_ws(':', count(*), max(id), max(updated_at)) FROM households),
            (SELECT concat_ws(':', count(*), max(id), max(updated_at)) FROM visits))
    """,  # noqa: S608 (a constant of this module)
}
"""What a layer's tiles read: rows added, removed or updated change the version."""

MIN_ZOOM = {"buildings": BUILDINGS_MIN_ZOOM, "households": HOUSEHOLDS_MIN_ZOOM}
LAYER_ACTION = {"buildings": Action.VIEW_MAP, "households": Action.VIEW_COVERAGE}


def render_tile(
    conn: Connection,
    who: Principal,
    layer: str,
    tile: TileKey,
    *,
    as_of: datetime,
    window_h: float,
) -> bytes:
    """One tile of `layer` as the principal may see it; the caller has applied the scope.
    A household is `unscreened` when not seen in the `window_h` hours up to `as_of`. Hexagons
    come from their cache when it is up to date and holds that moment (no visit after it),
    else live from the records: the same figures either way."""
    if tile.z < MIN_ZOOM[layer]:
        return b""
    sql = buildings_sql(who) if layer == "buildings" else households_sql(who, tile.z)
    params: dict[str, object] = {"z": tile.z, "x": tile.x, "y": tile.y}
    if not who.town_wide:
        params["grid_ids"] = sorted(who.grid_ids or ())
    if layer == "households":
        params.update(as_of=as_of, hours=window_h)
        if tile.z < HOUSEHOLDS_PER_BUILDING_ZOOM:
            bounds = hexagon_bounds(tile)
            if not hexagon_cache.is_stale(conn) and hexagon_cache.covers(
                conn, tile.z, bounds, as_of
            ):
                sql = cached_hexagons_sql(who)
                params.update(zip(("i0", "i1", "j0", "j1"), bounds, strict=True))
    # No parallel workers: on a building tile they cost more to start than they save, and
    # the browser asks for several tiles at once, which keeps every CPU busy anyway.
    conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    body = conn.execute(text(sql), params).scalar_one()
    return bytes(body) if body is not None else b""


PUBLISHED_CELLS_SQL = f"""
    SELECT ST_AsMVT(q, 'households', {EXTENT}, 'geom')
    FROM (
        SELECT u.h3, u.households, u.never_visited, u.unscreened,
               ST_AsMVTGeom(
                   ST_Transform(ST_GeomFromWKB(u.wkb, 4326), 3857),
                   ST_TileEnvelope(:z, :x, :y), {EXTENT}, {BUFFER}, true
               ) AS geom
        FROM unnest(
            CAST(:cells AS text[]), CAST(:wkbs AS bytea[]), CAST(:households AS int[]),
            CAST(:never_visited AS int[]), CAST(:unscreened AS int[])
        ) AS u(h3, wkb, households, never_visited, unscreened)
    ) AS q
"""  # noqa: S608 (tile constants and SQL fragments of this module; tile, scope and as_of are bound)


def render_published_cells(
    conn: Connection, who: Principal, tile: TileKey, day: date, window_h: float
) -> bytes:
    """Households per H3 cell of a closed day, as published to a role without household
    access (the same cells and figures at every zoom, so zooms cannot be subtracted)."""
    if tile.z < HOUSEHOLDS_MIN_ZOOM:
        return b""
    n = 2**tile.z
    west, east = tile.x / n * 360 - 180, (tile.x + 1) / n * 360 - 180
    north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * tile.y / n))))
    south = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (tile.y + 1) / n))))
    cells = cells_meeting(household_cells(conn, who, day, window_h), west, south, east, north)
    if not cells:
        return b""
    params: dict[str, object] = {"z": tile.z, "x": tile.x, "y": tile.y}
    params["cells"] = [c for c, _, _ in cells]
    params["wkbs"] = [w for _, w, _ in cells]
    for i, name in enumerate(("households", "never_visited", "unscreened")):
        params[name] = [v[i] for _, _, v in cells]
    body = conn.execute(text(PUBLISHED_CELLS_SQL), params).scalar_one()
    return bytes(body) if body is not None else b""
