"""Patrol routes as a planner may make them: each zone's postman route from a station, cut
into loops of at most a number of hours, drawn as lines and written as GPX."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import shapely
from sqlalchemy import Connection

from geodata.analysis.coverage.metric import project_xy, unproject_xy
from geodata.analysis.patrols.drawing import loop_steps, steps_xy
from geodata.analysis.patrols.loops import LoopLimitError, split_loops
from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.postman import postman_tour
from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.errors import NotFoundError
from geodata.records.patrol_routes import store_route
from geodata.services.patrol_planning import (
    STATION_TOLERANCE_M,
    PatrolRefused,
    TownModel,
    _units_in,
    load_town,
)

DEFAULT_LOOP_HOURS = 4.0


def _station(
    model: TownModel,
    zone_m: shapely.Geometry,
    station: str | None,
    start: tuple[float, float] | None,
) -> tuple[str, np.ndarray]:
    inputs = model.inputs
    if station is not None:
        if station not in inputs.checkpoint_ids:
            raise NotFoundError(f"unknown station {station!r} (an active checkpoint's id)")
        xy = inputs.checkpoints_xy[inputs.checkpoint_ids.index(station)]
        label = station
    elif start is not None:
        lon, lat = start
        if not (np.isfinite(lon) and np.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
            raise PatrolRefused(f"--start: not a longitude,latitude: {lon},{lat}")
        xy = project_xy(np.array([lon]), np.array([lat]), inputs.epsg)[0]
        label = f"{lon:.6f},{lat:.6f}"
    else:
        near = shapely.distance(zone_m, shapely.points(inputs.checkpoints_xy.reshape(-1, 2)))
        inside = np.flatnonzero(np.asarray(near) <= STATION_TOLERANCE_M).tolist()
        if inside:
            centre = np.asarray(shapely.get_coordinates(shapely.centroid(zone_m)))[0]
            best = min(inside, key=lambda i: float(np.hypot(*(inputs.checkpoints_xy[i] - centre))))
            return inputs.checkpoint_ids[best], inputs.checkpoints_xy[best]
        xy = np.asarray(shapely.get_coordinates(shapely.point_on_surface(zone_m)))[0]
        return "zone", xy
    if float(shapely.distance(zone_m, shapely.Point(xy))) > STATION_TOLERANCE_M:
        raise PatrolRefused(f"station {label} is outside the zone")
    return label, np.asarray(xy, dtype=float)


def _zones(conn: Connection, model: TownModel, zone: str | None) -> list[int]:
    ids = model.inputs.zone_ids
    if zone is None:
        if not ids:
            raise PatrolRefused(
                "the town has no patrol zones: make them with `wangge plan patrols`"
            )
        return list(range(len(ids)))
    if zone not in ids:
        raise NotFoundError(f"unknown zone {zone!r}")
    return [ids.index(zone)]


def _zone_segments(model: TownModel, index: int) -> np.ndarray:
    """The zone's streets: its blocks' segments, the border ones shared with the other zones
    of its period given as the zoning gives them (`PatrolTown.zone_segments`)."""
    inputs, town = model.inputs, model.town
    period = inputs.zone_periods[index]
    zone_of_block = np.full(town.blocks.count, -1, dtype=np.int64)
    same = [i for i, p in enumerate(inputs.zone_periods) if p == period]
    for z in reversed(same):  # where zones of a period overlap, the first one listed
        zone_of_block[_units_in(model, np.array([inputs.zones_m[z]], dtype=object))] = z
    return np.flatnonzero(town.zone_segments(zone_of_block) == index).astype(np.int64)


def patrol_route_plan(
    conn: Connection,
    principal: Principal,
    *,
    zone: str | None = None,
    station: str | None = None,
    start: tuple[float, float] | None = None,
    loop_hours: float = DEFAULT_LOOP_HOURS,
    pace: Pace | None = None,
) -> dict[str, Any]:
    """For each zone (or the one asked): the route, its street and deadhead metres, its loops."""
    principal.require(Action.PLAN)
    if not (np.isfinite(loop_hours) and loop_hours > 0):
        raise PatrolRefused(f"--loop-hours: a positive number of hours, not {loop_hours}")
    if station is not None and start is not None:
        raise PatrolRefused("--station or --start, not both")
    pace = pace or Pace()
    model = load_town(conn)
    town, inputs = model.town, model.inputs
    routes = []
    for index in _zones(conn, model, zone):
        zone_m = inputs.zones_m[index]
        units = _units_in(model, np.array([zone_m], dtype=object))
        segments = _zone_segments(model, index)
        zone_id = inputs.zone_ids[index]
        if len(segments) == 0:
            raise PatrolRefused(f"zone {zone_id} has no roads")
        label, xy = _station(model, zone_m, station, start)
        node = town.nearest_node(xy)
        tour = postman_tour(town.net, segments, node)
        dist, pred = town.net.distances(np.array([node]))
        stop_at = np.zeros(len(tour.steps))
        stops = int(town.blocks.stops[units].sum())
        required = [i for i, s in enumerate(tour.steps) if s.required]
        if required and stops:
            stop_at[required] = stops / len(required)
        try:
            loops = split_loops(tour, dist[0], limit_h=loop_hours, pace=pace, stop_at=stop_at)
        except LoopLimitError as exc:
            raise PatrolRefused(f"zone {zone_id}: {exc}") from None
        period = inputs.zone_periods[index]
        drawn = []
        for n, lp in enumerate(loops, start=1):
            xy_m = steps_xy(town.net, loop_steps(town.net, tour.steps, lp.first, lp.end, pred[0]))
            drawn.append(
                {
                    "period": period,
                    "loop": n,
                    "route_m": round(lp.route_m, 1),
                    "hours": round(lp.hours, 3),
                    "_lonlat": unproject_xy(xy_m, inputs.epsg),
                }
            )
        routes.append(
            {
                "zone": zone_id,
                "period": period,
                "station": label,
                "route_m": round(tour.route_m, 1),
                "street_m": round(tour.street_m, 1),
                "deadhead_m": round(tour.route_m - tour.street_m, 1),
                "hours": round(float(pace.hours(tour.route_m, stops)), 3),
                "matching_gap_m": round(tour.matching_gap_m, 1),
                "segments": tour.segments,
                "segments_covered": len(tour.covered & frozenset(segments.tolist())),
                "loops": drawn,
            }
        )
    return {"routes": routes}


def apply_patrol_routes(conn: Connection, principal: Principal, plan: dict[str, Any]) -> list[int]:
    """Store the routes and their loops (each retires the zone's route before it); audited."""
    principal.require(Action.PLAN)
    stored = [store_route(conn, route, by=principal.name) for route in plan["routes"]]
    audit.record(
        conn,
        actor=principal.name,
        action="plan_patrol_routes",
        object_type="patrol_route",
        object_ids=stored,
        row_count=len(stored),
        detail={"zones": [r["zone"] for r in plan["routes"]]},
    )
    return stored


def public_routes(plan: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "routes": [
            {
                **r,
                "loops": [
                    {k: v for k, v in lp.items() if not k.startswith("_")} for lp in r["loops"]
                ],
            }
            for r in plan["routes"]
        ]
    }
    if "applied" in plan:
        out["applied"] = plan["applied"]
    return out


def write_gpx(plan: dict[str, Any], directory: Path) -> list[Path]:
    """One GPX file per zone, one track per loop."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for route in plan["routes"]:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in route["zone"])
        path = directory / f"{safe}.gpx"
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<gpx version="1.1" creator="wangge" xmlns="http://www.topografix.com/GPX/1/1">',
        ]
        for lp in route["loops"]:
            parts.append(
                f"<trk><name>{escape(route['zone'])} loop {lp['loop']}</name>"
                f"<desc>{lp['route_m']} m, {lp['hours']} h, {escape(route['period'])}</desc>"
                "<trkseg>"
            )
            parts += [f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"/>' for lon, lat in lp["_lonlat"]]
            parts.append("</trkseg></trk>")
        parts.append("</gpx>")
        path.write_text("\n".join(parts) + "\n", encoding="utf-8")
        written.append(path)
    return written
