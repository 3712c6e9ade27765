"""`/tiles/{layer}/{z}/{x}/{y}.pbf`: the core's vector tiles (`geodata.maps.tiles`) as the
caller may see them, cached in the process and answered with an ETag keyed on a version of
the data they read, so a change to the tables gives new tiles and an unchanged tile costs
a 304. Tiles go through the app's engine with the caller's row-level security context."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, Response, abort, request
from sqlalchemy import Connection, text

from geodata import params
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.disclosure.rules import controlled, town_today
from geodata.maps import hexagon_cache
from geodata.maps.tiles import (
    HOUSEHOLDS_PER_BUILDING_ZOOM,
    LAYER_ACTION,
    MAX_ZOOM,
    MIN_ZOOM,
    VERSION_SQL,
    TileKey,
    render_published_cells,
    render_tile,
)
from geodata.records.town_settings import setting
from geodata.town_time import TOWN_TIMEZONE
from webapp.infra import database
from webapp.infra.params import window_h_arg
from webapp.infra.policy import principal, requires

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
VERSION_TTL_S = 2.0
"""How long a data version read from the database is trusted before it is read again."""
CACHE_TILES = 4096

bp = Blueprint("tiles", __name__)


class TileCache:
    """Recently made tiles and data versions, shared by the threads of one process."""

    def __init__(self, *, max_tiles: int = CACHE_TILES, version_ttl_s: float = VERSION_TTL_S):
        self._tiles: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._versions: dict[tuple[object, ...], tuple[float, str]] = {}
        self._reading: dict[tuple[object, ...], threading.Lock] = {}
        self._lock = threading.Lock()
        self.max_tiles = max_tiles
        self.version_ttl_s = version_ttl_s

    def version(self, key: tuple[object, ...], read: Callable[[], str]) -> str:
        """The version under `key`, read again when older than the TTL: by one thread, the
        others asking meanwhile wait for its answer (a map's first view asks for dozens of
        tiles at once, and reading a version counts whole tables)."""
        with self._lock:
            reading = self._reading.setdefault(key, threading.Lock())
        with reading:
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
            self._reading.clear()

    def clear_tiles(self) -> None:
        with self._lock:
            self._tiles.clear()


cache = TileCache()


def _published_day() -> date:
    """The closed day a role without household access sees: `?as_of=` if it is one, else
    the last closed day (today is published per grid or village only)."""
    yesterday = town_today() - timedelta(days=1)
    moment = params.filters({"as_of": request.args.get("as_of")}).as_of
    if moment is None:
        return yesterday
    return min(moment.astimezone(TOWN_TIMEZONE).date(), yesterday)


def _as_of() -> datetime:
    """`?as_of=` (an ISO date: the end of that day), else now to the minute."""
    moment = params.filters({"as_of": request.args.get("as_of")}).as_of
    return datetime.now(UTC).replace(second=0, microsecond=0) if moment is None else moment


def _scope_key(who: Principal) -> str:
    return "town" if who.town_wide else ",".join(str(g) for g in sorted(who.grid_ids or ()))


@bp.get("/tiles/<layer>/<int:z>/<int:x>/<int:y>.pbf")
@requires(Action.VIEW_MAP)
def tile(layer: str, z: int, x: int, y: int) -> Response:
    """A Mapbox vector tile of `buildings` or `households` (counts per building or hexagon;
    `?as_of=`, `?window_h=`, both fixed for roles without household access)."""
    if layer not in MIN_ZOOM or not 0 <= z <= MAX_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
        abort(404)
    who = principal()
    if not who.can(LAYER_ACTION[layer]):
        abort(403)
    published = layer == "households" and controlled(who)
    day = _published_day() if published else None
    as_of = _as_of() if layer == "households" and not published else None
    asked_window = window_h_arg() if layer == "households" and not published else None
    key = TileKey(z, x, y)
    scope = _scope_key(who) + (f":published:{day}" if day else "")
    if layer == "households" and not published and z < HOUSEHOLDS_PER_BUILDING_ZOOM:
        with database.engine().begin() as conn:
            # What writes made stale, before the tile reads it; while another request or the
            # clock refreshes, the tile is computed live (render_tile sees it stale).
            hexagon_cache.refresh(conn, wait=False)
    with ExitStack() as stack:
        opened: list[Connection] = []

        def scoped() -> Connection:
            """The tile's connection in the caller's scope, opened when first needed: a tile
            answered from the caches (a 304, a tile made before) needs no database."""
            if not opened:
                found = stack.enter_context(database.engine().connect())
                stack.enter_context(found.begin())
                apply_scope(found, who)
                opened.append(found)
            return opened[0]

        # A building tile does not depend on the screening window.
        window_h = 0.0
        if layer == "households":
            window_h = asked_window or float(setting(scoped(), "screening_window_days")) * 24.0
        # The buildings' version is the same for every scope (a generation, not a count).
        version_key = (layer,) if layer == "buildings" else (layer, scope)
        version = cache.version(
            version_key, lambda: str(scoped().execute(text(VERSION_SQL[layer])).scalar_one())
        )
        moment = as_of.isoformat() if as_of else ""
        cache_key = (layer, scope, version, moment, window_h, z, x, y)
        etag = hashlib.sha256(repr(cache_key).encode()).hexdigest()[:32]
        if etag in request.if_none_match:
            body = b""
        else:
            body = cache.tile(
                cache_key,
                lambda: (
                    render_published_cells(scoped(), who, key, day, window_h)
                    if day is not None
                    else render_tile(
                        scoped(),
                        who,
                        layer,
                        key,
                        as_of=as_of or datetime.now(UTC),
                        window_h=window_h,
                    )
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
