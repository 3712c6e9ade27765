"""The planner's page on patrol zones: a proposal with its street blocks as GeoJSON, a block
moved to another zone and the changed zones measured again, and the edited zones applied.

The page holds the assignment (each street block's zone) and sends it back whole with each
move and with apply; the server checks it against the town as it stands. The town model
(`load_town`, seconds on a real town) is kept in this process under the town's fingerprint:
the database, the coverage cache's generations that any write to roads, villages, buildings,
households (but their visits), grids, entrances and compounds moves on, and a digest of the
active checkpoints. A request made on a proposal of another fingerprint is refused (409):
its block numbers belong to a town that is no longer there. The figures of an assignment
are kept the same way, by the assignment's digest, so that a move measures only the zones
it changes.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, text

from geodata.analysis.coverage.metric import unproject_xy
from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.plan import Balance
from geodata.analysis.patrols.rescore import MoveRefused, ZoneFigures, measure, move, rescore
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.errors import ConflictError, NotFoundError
from geodata.services.patrol_planning import (
    PERIODS,
    PatrolRefused,
    TownModel,
    apply_patrol_zones,
    load_town,
    patrol_zone_plan,
)

Ints = NDArray[np.int64]
T = TypeVar("T")

KEPT_TOWNS = 2
"""Town models a process keeps (one per database it serves, and the one before a change)."""
KEPT_FIGURES = 64
"""Assignments whose figures a process keeps (each a few numbers per zone)."""
GEOJSON_DECIMALS = 7

_LOCK = threading.Lock()
_TOWNS: dict[tuple[str, str, str], TownModel] = {}
_FIGURES: dict[tuple[str, str, str, str], list[ZoneFigures]] = {}


@dataclass(frozen=True)
class Assignment:
    """Street blocks (`units`) and each one's zone (0..k-1), as the page sends them back."""

    units: Ints
    zones: Ints
    k: int

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(self.units.astype("<i8").tobytes())
        h.update(self.zones.astype("<i8").tobytes())
        return h.hexdigest()


def town_fingerprint(conn: Connection) -> str:
    """What the town model is made of, in one cheap query (see the module docstring)."""
    row = conn.execute(
        text(
            "SELECT (SELECT oid FROM pg_database WHERE datname = current_database()),"
            " s.structure, s.places,"
            " (SELECT md5(coalesce(string_agg(k.id || ':' || coalesce(k.entrance_id, 0)"
            "  || ':' || ST_AsText(k.geom), ',' ORDER BY k.id), ''))"
            "  FROM checkpoints AS k WHERE k.state = 'active')"
            " FROM coverage_cache_state AS s"
        )
    ).one()
    url = conn.engine.url.render_as_string(hide_password=True)
    raw = f"{url}|{row[0]}|{row[1]}|{row[2]}|{row[3]}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _keep(store: dict[Any, T], key: Any, value: T, limit: int) -> T:
    with _LOCK:
        if len(store) >= limit and key not in store:
            store.pop(next(iter(store)))
        store[key] = value
    return value


def _database(conn: Connection) -> str:
    return conn.engine.url.render_as_string(hide_password=True)


def _scope(principal: Principal) -> str:
    """Whose households the model counts: the town's, or those of the principal's grids."""
    if principal.town_wide:
        return "town"
    return ",".join(str(g) for g in sorted(principal.grid_ids or ()))


def _scoped(conn: Connection, principal: Principal) -> str:
    principal.require(Action.PLAN)
    apply_scope(conn, principal)
    return _scope(principal)


def _town(conn: Connection, fingerprint: str, scope: str) -> TownModel:
    """The town model of this fingerprint and scope: kept, or loaded and kept."""
    key = (_database(conn), fingerprint, scope)
    with _LOCK:
        found = _TOWNS.get(key)
    if found is not None:
        return found
    model = load_town(conn)
    if town_fingerprint(conn) != fingerprint:
        raise ConflictError("the town changed while it was read: propose again")
    return _keep(_TOWNS, key, model, KEPT_TOWNS)


def _figures(
    conn: Connection, key_of: tuple[str, str], model: TownModel, a: Assignment, pace: Pace
) -> list[ZoneFigures]:
    """The assignment's figures: kept, or measured and kept (`key_of`: fingerprint, scope)."""
    key = (_database(conn), *key_of, a.digest() + repr(pace))
    with _LOCK:
        found = _FIGURES.get(key)
    if found is not None:
        return found
    return _keep(_FIGURES, key, measure(model.town, a.units, a.zones, a.k, pace), KEPT_FIGURES)


def _zone_rows(figures: list[ZoneFigures], period: str, village: str | None) -> dict[str, Any]:
    zones = [
        {
            "zone": n,
            "id": f"plan:{period}:{village or 'town'}:{n}",
            "hours": round(f.hours, 3),
            "households": f.households,
            "road_m": round(f.road_m, 1),
            "route_m": round(f.route_m, 1),
            "pieces": f.pieces,
            "polsby_popper": round(f.polsby_popper, 4),
            "units": f.units,
        }
        for n, f in enumerate(figures, start=1)
    ]
    hours = [f.hours for f in figures]
    return {
        "zones": zones,
        "hours_max_min": round(max(hours) / max(min(hours), 1e-12), 4) if hours else None,
    }


def _lonlat(model: TownModel) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    epsg = model.inputs.epsg
    return lambda xy: np.round(unproject_xy(xy, epsg), GEOJSON_DECIMALS)


def units_geojson(model: TownModel, a: Assignment, pace: Pace) -> dict[str, Any]:
    """The assignment's street blocks in longitude/latitude, with their zone (1..k) and their
    own workload (households, road metres, posts, hours of their streets and stops)."""
    b = model.town.blocks
    geoms = shapely.transform(b.geoms[a.units], _lonlat(model))
    hours = pace.hours(b.road_m[a.units], b.stops[a.units].astype(np.float64))
    features = [
        {
            "type": "Feature",
            "id": int(u),
            "geometry": shapely.geometry.mapping(g),
            "properties": {
                "unit": int(u),
                "zone": int(z) + 1,
                "households": int(b.households[u]),
                "road_m": round(float(b.road_m[u]), 1),
                "stops": int(b.stops[u]),
                "hours": round(float(h), 3),
            },
        }
        for u, z, g, h in zip(a.units.tolist(), a.zones.tolist(), geoms, hours, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _units_in(model: TownModel, areas_m: NDArray[np.object_]) -> Ints:
    if len(areas_m) == 0:
        return np.zeros(0, dtype=np.int64)
    inside = shapely.point_on_surface(model.town.blocks.geoms)
    hit = shapely.STRtree(areas_m).query(inside, predicate="intersects")
    return np.unique(hit[0]).astype(np.int64)


def _eligible(model: TownModel, *, period: str, village: str | None, keep_existing: bool) -> Ints:
    """The street blocks a proposal of these options zones (as `patrol_zone_plan` picks them)."""
    inputs, blocks = model.inputs, model.town.blocks
    units = np.arange(blocks.count, dtype=np.int64)
    if village is not None:
        if village not in inputs.village_codes:
            raise NotFoundError(f"unknown village {village!r}")
        units = units[blocks.area[units] == inputs.village_codes.index(village)]
    if keep_existing:
        kept = np.array([p == period for p in inputs.zone_periods], dtype=bool)
        units = np.setdiff1d(units, _units_in(model, inputs.zones_m[kept]))
    return units


def assignment(
    model: TownModel,
    units: list[int],
    zones: list[int],
    *,
    period: str,
    village: str | None,
    keep_existing: bool,
) -> Assignment:
    """The page's assignment checked: the proposal's street blocks, each once, each with a
    zone from 1 to k and no zone empty. `zones` are 1..k as the page shows them."""
    if period not in PERIODS:
        raise PatrolRefused(f"period: day or night, not {period!r}")
    if len(units) != len(zones):
        raise PatrolRefused(f"units and zones: {len(units)} street blocks, {len(zones)} zones")
    u = np.asarray(units, dtype=np.int64)
    z = np.asarray(zones, dtype=np.int64) - 1
    if len(np.unique(u)) != len(u):
        raise PatrolRefused("units: a street block is listed twice")
    order = np.argsort(u, kind="stable")
    u, z = u[order], z[order]
    wanted = _eligible(model, period=period, village=village, keep_existing=keep_existing)
    if len(u) != len(wanted) or not np.array_equal(np.sort(u), wanted):
        raise ConflictError(
            "units: not the street blocks of this proposal (the zones kept or the town"
            " changed): propose again"
        )
    k = int(z.max()) + 1 if len(z) else 0
    if len(z) == 0 or z.min() < 0:
        raise PatrolRefused("zones: numbers from 1")
    empty = sorted(set(range(k)) - set(z.tolist()))
    if empty:
        raise PatrolRefused(f"zone {empty[0] + 1} has no street blocks")
    return Assignment(units=u, zones=z, k=k)


def _checked_town(conn: Connection, town: str, scope: str) -> TownModel:
    now = town_fingerprint(conn)
    if town != now:
        raise ConflictError(
            "the town changed since this proposal (roads, villages, buildings, households,"
            " entrances or checkpoints): propose again"
        )
    return _town(conn, now, scope)


def _plan_figures(zone: dict[str, Any]) -> ZoneFigures:
    return ZoneFigures(
        units=len(zone["_units"]),
        hours=float(zone["hours"]),
        households=int(zone["households"]),
        road_m=float(zone["road_m"]),
        route_m=float(zone["route_m"]),
        pieces=int(zone["pieces"]),
        polsby_popper=float(zone["polsby_popper"]),
    )


def propose(
    conn: Connection,
    principal: Principal,
    *,
    zones: int,
    period: str,
    village: str | None = None,
    by: Balance = "hours",
    keep_existing: bool = False,
    pace: Pace | None = None,
) -> dict[str, Any]:
    """`patrol_zone_plan`'s zones with each zone measured as the page measures a move (zoning
    by hours did; by households or road metres, measured here), and the street blocks as
    GeoJSON; `town` names the town model the block numbers belong to."""
    pace = pace or Pace()
    scope = _scoped(conn, principal)
    before = town_fingerprint(conn)
    plan = patrol_zone_plan(
        conn,
        principal,
        zones=zones,
        period=period,
        village=village,
        by=by,
        keep_existing=keep_existing,
        pace=pace,
    )
    model: TownModel = plan["_model"]
    if town_fingerprint(conn) == before:
        _keep(_TOWNS, (_database(conn), before, scope), model, KEPT_TOWNS)
    units = np.concatenate([np.asarray(z["_units"], dtype=np.int64) for z in plan["zones"]])
    labels = np.concatenate(
        [np.full(len(z["_units"]), n, dtype=np.int64) for n, z in enumerate(plan["zones"])]
    )
    order = np.argsort(units)
    a = Assignment(units=units[order], zones=labels[order], k=len(plan["zones"]))
    if by == "hours":
        # zoning by hours measured these zones as a move measures them (tested): kept as
        # they are, not measured twice
        figures = [_plan_figures(z) for z in plan["zones"]]
        key = (_database(conn), before, scope, a.digest() + repr(pace))
        _keep(_FIGURES, key, figures, KEPT_FIGURES)
    else:
        figures = _figures(conn, (before, scope), model, a, pace)
    return {
        "town": before,
        "period": period,
        "by": by,
        "village": village,
        "keep_existing": keep_existing,
        **_zone_rows(figures, period, village),
        "solve_s": plan["solve_s"],
        "units": units_geojson(model, a, pace),
    }


def rescore_move(
    conn: Connection,
    principal: Principal,
    *,
    town: str,
    period: str,
    village: str | None,
    keep_existing: bool,
    units: list[int],
    zones: list[int],
    unit: int,
    to: int,
    pace: Pace | None = None,
) -> dict[str, Any]:
    """Block `unit` moved to zone `to` (1..k): every zone's figures, those of the zones
    changed measured again (`changed`, 1..k), and the zones after the move. A move that
    would empty a zone or leave one in more pieces is a `PatrolRefused` naming the zone."""
    pace = pace or Pace()
    scope = _scoped(conn, principal)
    model = _checked_town(conn, town, scope)
    a = assignment(model, units, zones, period=period, village=village, keep_existing=keep_existing)
    try:
        after = move(model.town, a.units, a.zones, unit, to - 1, a.k)
    except MoveRefused as refused:
        raise PatrolRefused(str(refused)) from None
    before = _figures(conn, (town, scope), model, a, pace)
    figures, changed = rescore(model.town, a.units, a.zones, after, before, pace)
    moved = Assignment(units=a.units, zones=after, k=a.k)
    kept = (_database(conn), town, scope, moved.digest() + repr(pace))
    _keep(_FIGURES, kept, figures, KEPT_FIGURES)
    return {
        "town": town,
        **_zone_rows(figures, period, village),
        "changed": [z + 1 for z in changed],
        "unit": unit,
        "zone": to,
    }


def apply_assignment(
    conn: Connection,
    principal: Principal,
    *,
    town: str,
    period: str,
    by: Balance,
    village: str | None,
    keep_existing: bool,
    units: list[int],
    zones: list[int],
    pace: Pace | None = None,
) -> dict[str, Any]:
    """Write the edited zones as the period's patrol zones through `apply_patrol_zones`
    (audited there); returns the new zones' ids and the figures written."""
    pace = pace or Pace()
    scope = _scoped(conn, principal)
    model = _checked_town(conn, town, scope)
    a = assignment(model, units, zones, period=period, village=village, keep_existing=keep_existing)
    figures = _figures(conn, (town, scope), model, a, pace)
    rows = _zone_rows(figures, period, village)
    plan: dict[str, Any] = {
        "period": period,
        "by": by,
        "zones": [
            {"id": row["id"], "hours": row["hours"], "_units": a.units[a.zones == n]}
            for n, row in enumerate(rows["zones"])
        ],
        "_model": model,
    }
    created = apply_patrol_zones(conn, principal, plan, keep_existing=keep_existing)
    return {"applied": created, **rows}
