"""The households tiles' hexagon cache gives the same tiles as the live query over the records,
for every hexagon tile of the sample town, for the town and for one grid, and again after
writes (a visit, a household moved, a building removed) once they are refreshed; before,
and for a moment earlier than a cached visit, the tile is computed live."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text

from geodata.auth.access import Principal
from geodata.auth.rls import apply_scope
from geodata.maps import hexagon_cache
from geodata.maps.tiles import TileKey, households_sql, render_tile
from geodata.vocab import Role
from tests import conftest

TOWN = Principal("commander", Role.COMMANDER)
HOURS = (24.0, 14 * 24.0)


def _tiles(conn: Connection, z: int) -> list[TileKey]:
    """Every tile of zoom `z` over the sample town's buildings."""
    xmin, ymin, xmax, ymax = conn.execute(
        text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
             " (SELECT ST_Extent(geom)::geometry AS e FROM buildings) AS x")
    ).one()  # fmt: skip

    def tile(lon: float, lat: float) -> tuple[int, int]:
        n = 2**z
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return int((lon + 180) / 360 * n), int(y)

    x0, y0 = tile(xmin, ymax)
    x1, y1 = tile(xmax, ymin)
    return [TileKey(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _live(conn: Connection, who: Principal, key: TileKey, as_of: datetime, hours: float) -> bytes:
    body = conn.execute(
        text(households_sql(who, key.z)),
        {"z": key.z, "x": key.x, "y": key.y, "as_of": as_of, "hours": hours}
        | ({} if who.town_wide else {"grid_ids": sorted(who.grid_ids or ())}),
    ).scalar_one()
    return bytes(body) if body is not None else b""


def _served_by_cache(conn: Connection, key: TileKey, as_of: datetime) -> bool:
    from geodata.maps.tiles import hexagon_bounds

    return not hexagon_cache.is_stale(conn) and hexagon_cache.covers(
        conn, key.z, hexagon_bounds(key), as_of
    )


def _compare(db: conftest.TestDatabase, who: Principal, as_of: datetime) -> int:
    """Tiles compared (each with households drawn), asserting cache == live."""
    drawn = 0
    with db.app.connect() as conn, conn.begin():
        apply_scope(conn, who)
        for z in hexagon_cache.ZOOMS:
            for key in _tiles(conn, z):
                for hours in HOURS:
                    cached = render_tile(conn, who, "households", key, as_of=as_of, window_h=hours)
                    assert cached == _live(conn, who, key, as_of, hours), (key, hours)
                    drawn += bool(cached)
    return drawn


@pytest.fixture
def town(own_sample_db: conftest.TestDatabase) -> conftest.TestDatabase:
    with own_sample_db.app.begin() as conn:
        done = hexagon_cache.refresh(conn)
    assert done["rebuilt"]
    assert done["rows"] > 0
    return own_sample_db


def test_cached_tiles_are_the_live_tiles_and_writes_are_refreshed(
    town: conftest.TestDatabase,
) -> None:
    now = datetime.now(UTC) + timedelta(minutes=1)
    with town.app.connect() as conn, conn.begin():
        apply_scope(conn, TOWN)
        key = next(k for k in _tiles(conn, 13) if render_tile(
            conn, TOWN, "households", k, as_of=now, window_h=24.0))  # fmt: skip
        assert _served_by_cache(conn, key, now)
    assert _compare(town, TOWN, now) > 0
    with town.owner.connect() as conn:
        grid = conn.execute(text("SELECT min(grid_id) FROM households")).scalar_one()
    assert _compare(town, Principal("worker", Role.GRID_WORKER, grid_ids=frozenset({grid})), now)

    # Writes: a visit, a household moved to another building, a building removed.
    with town.owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO visits (source_id, household_id, grid_id, visited_at, result)"
                " SELECT 'cache-test:' || h.id, h.id, h.grid_id, :at, 'seen_all'"
                " FROM households h ORDER BY h.id LIMIT 3"
            ),
            {"at": datetime.now(UTC) - timedelta(hours=1)},
        )
        conn.execute(
            text(
                "UPDATE households SET building_id = (SELECT max(id) FROM buildings"
                " WHERE id IN (SELECT building_id FROM households)) WHERE id = (SELECT max(id)"
                " FROM households)"
            )
        )
        emptied = conn.execute(
            text(
                "SELECT b.id FROM buildings b WHERE NOT EXISTS (SELECT 1 FROM households h"
                " WHERE h.building_id = b.id) ORDER BY b.id LIMIT 1"
            )
        ).scalar_one_or_none()
        if emptied is not None:
            conn.execute(text("DELETE FROM buildings WHERE id = :b"), {"b": emptied})
    with town.app.connect() as conn, conn.begin():
        assert hexagon_cache.is_stale(conn)
        assert not _served_by_cache(conn, key, now)  # stale: live until refreshed
    assert _compare(town, TOWN, now) > 0
    with town.app.begin() as conn:
        done = hexagon_cache.refresh(conn)
    assert not done["rebuilt"]
    assert done["cells"] > 0
    with town.app.connect() as conn, conn.begin():
        apply_scope(conn, TOWN)
        assert _served_by_cache(conn, key, now)
    assert _compare(town, TOWN, now) > 0


def test_a_moment_before_a_cached_visit_is_computed_live(town: conftest.TestDatabase) -> None:
    with town.owner.connect() as conn:
        first, last = conn.execute(
            text("SELECT min(last_visited_at), max(last_visited_at) FROM households")
        ).one()
    earlier = first + (last - first) / 2
    with town.app.connect() as conn, conn.begin():
        apply_scope(conn, TOWN)
        keys = _tiles(conn, 11)
        assert not all(_served_by_cache(conn, k, earlier) for k in keys)
    assert _compare(town, TOWN, earlier) > 0


def test_a_tile_does_not_wait_for_a_refresh_under_way(town: conftest.TestDatabase) -> None:
    with town.owner.begin() as conn:
        conn.execute(text("UPDATE household_hexagons_state SET rebuild = true"))
    now = datetime.now(UTC)
    with town.owner.connect() as holder, holder.begin():
        holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": hexagon_cache.LOCK_KEY})
        with town.app.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))  # a wait fails, never hangs
            assert hexagon_cache.refresh(conn, wait=False) == {"busy": True}
        with town.app.connect() as conn, conn.begin():
            apply_scope(conn, TOWN)
            key = _tiles(conn, 12)[0]
            assert not _served_by_cache(conn, key, now)  # stale: computed live meanwhile
            assert render_tile(conn, TOWN, "households", key, as_of=now, window_h=24.0) == _live(
                conn, TOWN, key, now, 24.0
            )
    with town.app.begin() as conn:
        assert hexagon_cache.refresh(conn, wait=False)["rebuilt"]
