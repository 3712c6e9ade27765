"""Keep the map's caches up to date between requests: the households tiles' hexagons and the
coverage report's figures per grid for its default options (what the commander's map asks
for first). Each brings itself up to date before a read anyway; doing it on the clock means
that the first view after a write finds it done."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from geodata.maps import hexagon_cache
from geodata.records import coverage_cache


def refresh(engine: Engine) -> dict[str, Any]:
    """Both caches brought up to date, each in a transaction of its own."""
    with engine.begin() as conn:
        hexagons = hexagon_cache.refresh(conn)
    with engine.begin() as conn:
        inputs = coverage_cache.town_inputs(conn, as_of=None, grid_ids=None)
        key = coverage_cache.cache_key(inputs, radius_m=None, network=False)
        coverage = coverage_cache.refresh(conn, inputs, key, radius_m=None, network=False)
    return {"hexagons": hexagons, "coverage": coverage}
