"""Vector tiles of the dense layers, composed by PostGIS: `/tiles/{layer}/{z}/{x}/{y}.pbf`.

`buildings` carries outlines (id, floors); `households` carries counts of households per
building (per hexagon below zoom 15), never a name or a household. To a role without
household access, `households` gives the published counts per H3 cell of resolution 9 of a
closed day at every zoom (`geodata.maps.household_cells`), never per building. Both go through the
app's engine with the caller's row-level security context, and are cut to a grid worker's
grids. Tiles are cached in the process and answered with an ETag keyed on a version of the
data they read, so a change to the tables gives new tiles and an unchanged tile costs a 304.

The tile queries encode `buildings.geom_3857`, the outline already in Web Mercator (a stored
column PostgreSQL computes from `geom`), so no outline is reprojected per request. The
candidates are the outlines whose box meets the tile's envelope widened by the buffer, found
through the GiST index on `geom`: a Web Mercator tile is a longitude/latitude rectangle too,
so its envelope brought to EPSG:4326 selects the same outlines, and no second index has to
be kept up on every write. `ST_AsMVTGeom` snaps to the tile's grid, drops repeated points and
clips; its result is never filtered on (`ST_AsMVT` skips empty geometries), since a filter
on it makes PostgreSQL compute it twice.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, Response, abort, request
from sqlalchemy import Connection, text

from geodata.auth.access import Action, Principal
from geodata.db.rls import apply_scope
from geodata.disclosure.rules import controlled, town_today
from geodata.errors import ConfigError
from geodata.maps.household_cells import cells_meeting, household_cells
from geodata.records.as_of import last_visit_as_of, parse_as_of
from geodata.town_time import TOWN_TIMEZONE
from webapp.infra import database
from webapp.infra.policy import principal, requires

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
BUILDINGS_MIN_ZOOM = 14
HOUSEHOLDS_MIN_ZOOM = 11
HOUSEHOLDS_PER_BUILDING_ZOOM = 15
"""From this zoom on, households are counted per building; below it, per hexagon."""
HEXAGONS_PER_TILE = 12
"""Hexagon size below HOUSEHOLDS_PER_BUILDING_ZOOM: this many across a tile."""
SCREENING_HOURS = 24
VERSION_TTL_S = 2.0
"""How long a data version read from the database is trusted before it is read again."""
CACHE_TILES = 4096

bp = Blueprint("tiles", __name__)


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
    """


def _household_counts(who: Principal, buildings_from: str) -> str:
    """Households of the buildings in `buildings_from` (alias b: id, the point px, py that
    stands for the building), counted per building."""
    return f"""
        SELECT b.id AS building_id, b.px, b.py,
               count(*) AS households,
               count(*) FILTER (WHERE lv.at IS NULL) AS never_visited,
               count(*) FILTER (
                   WHERE lv.at IS NULL
                      OR lv.at <= CAST(:as_of AS timestamptz) - make_interval(hours => :hours)
               ) AS unscreened
        FROM {buildings_from}
        JOIN households AS h ON h.building_id = b.id
        CROSS JOIN LATERAL (SELECT {last_visit_as_of("h", ":as_of")} AS at) AS lv
        WHERE true {_scope_filter("h.grid_id", who)}
        GROUP BY b.id, b.px, b.py
    """


def households_sql(who: Principal, z: int) -> str:
    # A building stands as a point on its outline per building, as its centroid for hexagons:
    # computed once, in the same pass that finds the tile's buildings.
    per_building = z >= HOUSEHOLDS_PER_BUILDING_ZOOM
    point = "ST_PointOnSurface" if per_building else "ST_Centroid"
    buildings = f"""
        (SELECT b.id, ST_X(p.at) AS px, ST_Y(p.at) AS py
         FROM buildings AS b, LATERAL (SELECT {point}(b.geom_3857) AS at) AS p
         WHERE {_tile_candidates("b")} {_scope_filter("b.grid_id", who)}) AS b
    """
    if per_building:
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
        """
    # Each building's centroid goes to the hexagon of ST_HexagonGrid's lattice (flat-topped,
    # edge `s`, anchored at 0,0; column i has its centres at x = 1.5 s i and, odd columns
    # half a row up, y = sqrt(3) s (j + i mod 2 / 2)) whose centre is nearest: one of the two
    # columns either side of it, rounded to the row. Arithmetic per building, no join of
    # every building with every hexagon; only hexagons holding someone are drawn.
    odd = "0.5 * (((v.i % 2) + 2) % 2)"
    return f"""
        WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
        size AS (SELECT (ST_XMax(e) - ST_XMin(e)) / {HEXAGONS_PER_TILE} / sqrt(3) AS s FROM env),
        counts AS ({_household_counts(who, buildings)}),
        placed AS (
            SELECT c.households, c.never_visited, c.unscreened, c.px, c.py FROM counts AS c
        ),
        binned AS (
            SELECT p.households, p.never_visited, p.unscreened, cell.i, cell.j
            FROM placed AS p, size AS z,
            LATERAL (
                SELECT v.i, v.j
                FROM (
                    SELECT v.i, round(p.py / (sqrt(3) * z.s) - {odd})::int AS j, {odd} AS half
                    FROM (VALUES (floor(p.px / (1.5 * z.s))::int),
                                 (floor(p.px / (1.5 * z.s))::int + 1)) AS v(i)
                ) AS v
                ORDER BY power(p.px - 1.5 * z.s * v.i, 2)
                       + power(p.py - sqrt(3) * z.s * (v.j + v.half), 2)
                LIMIT 1
            ) AS cell
        )
        SELECT ST_AsMVT(q, 'households', {EXTENT}, 'geom')
        FROM (
            SELECT sum(h.households)::int AS households,
                   sum(h.never_visited)::int AS never_visited,
                   sum(h.unscreened)::int AS unscreened,
                   ST_AsMVTGeom(
                       ST_SetSRID(ST_Hexagon(z.s, h.i, h.j), 3857), env.e, {EXTENT}, {BUFFER}, true
                   ) AS geom
            FROM binned AS h, size AS z, env
            GROUP BY h.i, h.j, z.s, env.e
            HAVING sum(h.unscreened) > 0
        ) AS q
    """


VERSION_SQL = {
    "buildings": """
        SELECT concat_ws(':', count(*), max(id), max(updated_at)) FROM buildings
    """,
    "households": """
        SELECT concat_ws(':',
            (SELECT concat_ws(':', count(*), max(id), max(updated_at)) FROM buildings),
            (SELECT concat_ws(':', count(*), max(id), max(updated_at)) FROM households),
            (SELECT concat_ws(':', count(*), max(id), max(updated_at)) FROM visits))
    """,
}
"""What a layer's tiles read: rows added, removed or updated change the version."""

MIN_ZOOM = {"buildings": BUILDINGS_MIN_ZOOM, "households": HOUSEHOLDS_MIN_ZOOM}
LAYER_ACTION = {"buildings": Action.VIEW_MAP, "households": Action.VIEW_COVERAGE}


class TileCache:
    """Recently made tiles and data versions, shared by the threads of one process."""

    def __init__(self, *, max_tiles: int = CACHE_TILES, version_ttl_s: float = VERSION_TTL_S):
        self._tiles: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._versions: dict[tuple[object, ...], tuple[float, str]] = {}
        self._lock = threading.Lock()
        self.max_tiles = max_tiles
        self.version_ttl_s = version_ttl_s

    def version(self, key: tuple[object, ...], read: Callable[[], str]) -> str:
        now = time.monotonic()
        with self._lock:
            found = self._versions.get(key)
        if found is not None and now - found[0] < self.version_ttl_s:
            return found[1]
        value = read()
        with self._lock:
            self._versions[key] = (now, value)
        return value

    def tile(self, key: tuple[object, ...], make: Callable[[], bytes]) -> bytes:
        with self._lock:
            found = self._tiles.get(key)
            if found is not None:
                self._tiles.move_to_end(key)
                return found
        body = make()
        with self._lock:
            self._tiles[key] = body
            while len(self._tiles) > self.max_tiles:
                self._tiles.popitem(last=False)
        return body

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()
            self._versions.clear()

    def clear_tiles(self) -> None:
        with self._lock:
            self._tiles.clear()


cache = TileCache()


def render_tile(
    conn: Connection, who: Principal, layer: str, tile: TileKey, *, as_of: datetime
) -> bytes:
    """One tile of `layer` as the principal may see it; the caller has applied the scope."""
    if tile.z < MIN_ZOOM[layer]:
        return b""
    sql = buildings_sql(who) if layer == "buildings" else households_sql(who, tile.z)
    params: dict[str, object] = {"z": tile.z, "x": tile.x, "y": tile.y}
    if not who.town_wide:
        params["grid_ids"] = sorted(who.grid_ids or ())
    if layer == "households":
        params.update(as_of=as_of, hours=SCREENING_HOURS)
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
"""


def render_published_cells(conn: Connection, who: Principal, tile: TileKey, day: date) -> bytes:
    """Households per H3 cell of a closed day, as published to a role without household
    access (the same cells and figures at every zoom, so zooms cannot be subtracted)."""
    if tile.z < HOUSEHOLDS_MIN_ZOOM:
        return b""
    n = 2**tile.z
    west, east = tile.x / n * 360 - 180, (tile.x + 1) / n * 360 - 180
    north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * tile.y / n))))
    south = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (tile.y + 1) / n))))
    cells = cells_meeting(household_cells(conn, who, day), west, south, east, north)
    if not cells:
        return b""
    params: dict[str, object] = {"z": tile.z, "x": tile.x, "y": tile.y}
    params["cells"] = [c for c, _, _ in cells]
    params["wkbs"] = [w for _, w, _ in cells]
    for i, name in enumerate(("households", "never_visited", "unscreened")):
        params[name] = [v[i] for _, _, v in cells]
    body = conn.execute(text(PUBLISHED_CELLS_SQL), params).scalar_one()
    return bytes(body) if body is not None else b""


def _published_day() -> date:
    """The closed day a role without household access sees: `?as_of=` if it is one, else
    the last closed day (today is published per grid or village only)."""
    yesterday = town_today() - timedelta(days=1)
    raw = request.args.get("as_of", "").strip()
    if not raw:
        return yesterday
    try:
        asked = parse_as_of(raw).astimezone(TOWN_TIMEZONE).date()
    except ConfigError:
        abort(400, "as_of: an ISO date or date-time")
    return min(asked, yesterday)


def _as_of() -> datetime:
    """`?as_of=` (an ISO date: the end of that day), else now to the minute."""
    raw = request.args.get("as_of", "").strip()
    if not raw:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        return parse_as_of(raw)
    except ConfigError:
        abort(400, "as_of: an ISO date or date-time")


def _scope_key(who: Principal) -> str:
    return "town" if who.town_wide else ",".join(str(g) for g in sorted(who.grid_ids or ()))


@bp.get("/tiles/<layer>/<int:z>/<int:x>/<int:y>.pbf")
@requires(Action.VIEW_MAP)
def tile(layer: str, z: int, x: int, y: int) -> Response:
    """A Mapbox vector tile of `buildings` or `households` (counts per building or hexagon)."""
    if layer not in MIN_ZOOM or not 0 <= z <= MAX_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
        abort(404)
    who = principal()
    if not who.can(LAYER_ACTION[layer]):
        abort(403)
    published = layer == "households" and controlled(who)
    day = _published_day() if published else None
    as_of = _as_of() if layer == "households" and not published else None
    key = TileKey(z, x, y)
    scope = _scope_key(who) + (f":published:{day}" if day else "")
    with database.engine().connect() as conn, conn.begin():
        apply_scope(conn, who)
        version = cache.version(
            (layer, scope), lambda: str(conn.execute(text(VERSION_SQL[layer])).scalar_one())
        )
        cache_key = (layer, scope, version, as_of.isoformat() if as_of else "", z, x, y)
        etag = hashlib.sha256(repr(cache_key).encode()).hexdigest()[:32]
        if etag in request.if_none_match:
            body = b""
        else:
            body = cache.tile(
                cache_key,
                lambda: (
                    render_published_cells(conn, who, key, day)
                    if day is not None
                    else render_tile(conn, who, layer, key, as_of=as_of or datetime.now(UTC))
                ),
            )
    response = Response(body, mimetype=MVT_MEDIA_TYPE)
    response.set_etag(etag)
    # The browser keeps the tile but asks each time whether it is still current (a 304).
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    response.vary.add("Authorization")
    response.make_conditional(request)  # a 304 when If-None-Match holds the ETag
    return response
