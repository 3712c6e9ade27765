"""Stored patrol routes and their loops (migration 0026): storing a zone's route retires the
one before it, which is kept with the time it was retired."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection, text


def store_route(conn: Connection, route: dict[str, Any], *, by: str) -> int:
    """Store one route (a plan's entry, its loops with `_lonlat` lines); returns its id."""
    conn.execute(
        text("UPDATE patrol_routes SET retired_at = now() WHERE zone = :z AND retired_at IS NULL"),
        {"z": route["zone"]},
    )
    route_id = conn.execute(
        text(
            "INSERT INTO patrol_routes (zone, period, station, route_m, street_m, hours,"
            " created_by) VALUES (:zone, :period, :station, :route_m, :street_m, :hours, :by)"
            " RETURNING id"
        ),
        {
            "zone": route["zone"],
            "period": route["period"],
            "station": route["station"],
            "route_m": route["route_m"],
            "street_m": min(route["street_m"], route["route_m"]),
            "hours": route["hours"],
            "by": by,
        },
    ).scalar_one()
    for lp in route["loops"]:
        line = shapely.LineString(np.asarray(lp["_lonlat"], dtype=float))
        conn.execute(
            text(
                "INSERT INTO patrol_loops (route_id, loop, period, route_m, hours, geom)"
                " VALUES (:route, :loop, :period, :route_m, :hours,"
                " ST_GeomFromWKB(:wkb, 4326))"
            ),
            {
                "route": route_id,
                "loop": lp["loop"],
                "period": lp["period"],
                "route_m": lp["route_m"],
                "hours": lp["hours"],
                "wkb": shapely.to_wkb(line),
            },
        )
    return int(route_id)
