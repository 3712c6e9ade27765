"""Patrol zones and routes as a planner may make them, and applying the zones (audited).

Zones: the town's street blocks (or one village's) partitioned into K contiguous zones
balanced by estimated patrol hours; `--keep-existing` leaves the blocks of the zones already
made for the period out. Routes: each zone's postman route from a station, cut into loops.
Every refusal is a `PatrolRefused` (exit code 1) or `NotFoundError`, before anything is
written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection, text

from geodata.analysis.coverage.metric import unproject_xy
from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.plan import Balance, PatrolTown, propose_zones
from geodata.analysis.patrols.shape import zone_outline
from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.errors import NotFoundError
from geodata.records.patrol_inputs import PatrolInputs, fetch_patrol_inputs
from geodata.records.refusal import RecordRefused

PERIODS = ("day", "night")
STATION_TOLERANCE_M = 5.0
"""A station this close to a zone's outline is in the zone."""


class PatrolRefused(RecordRefused):
    """A patrol plan that cannot be made as asked; nothing was changed (exit code 1, 400)."""


@dataclass(frozen=True)
class TownModel:
    inputs: PatrolInputs
    town: PatrolTown


def load_town(conn: Connection) -> TownModel:
    inputs = fetch_patrol_inputs(conn)
    if len(inputs.villages_m) == 0:
        raise PatrolRefused("the town has no villages")
    town = PatrolTown.build(
        inputs.roads_m,
        inputs.villages_m,
        households_xy=inputs.households_xy,
        households=inputs.households,
        stops_xy=inputs.stops_xy,
    )
    return TownModel(inputs, town)


def _to_lonlat(geom_m: shapely.Geometry, epsg: int) -> shapely.Geometry:
    return shapely.transform(geom_m, lambda xy: unproject_xy(xy, epsg))


def _units_in(model: TownModel, areas_m: np.ndarray) -> np.ndarray:
    """Blocks whose inside point lies in any of these areas."""
    if len(areas_m) == 0:
        return np.zeros(0, dtype=np.int64)
    inside = shapely.point_on_surface(model.town.blocks.geoms)
    hit = shapely.STRtree(areas_m).query(inside, predicate="intersects")
    return np.unique(hit[0]).astype(np.int64)


def _last_number(zone_ids: list[str], prefix: str) -> int:
    """The highest number of the zones kept under this plan prefix (0: none), so that a plan
    made around them never takes one of their ids."""
    numbers = [z[len(prefix) :] for z in zone_ids if z.startswith(prefix)]
    return max((int(n) for n in numbers if n.isdigit()), default=0)


def patrol_zone_plan(
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
    """K zones for the period, with their hours, households, road metres and shape."""
    principal.require(Action.PLAN)
    if period not in PERIODS:
        raise PatrolRefused(f"period: day or night, not {period!r}")
    if zones < 1:
        raise PatrolRefused(f"zones: at least 1, not {zones}")
    started = time.perf_counter()
    model = load_town(conn)
    inputs, blocks = model.inputs, model.town.blocks
    units = np.arange(blocks.count, dtype=np.int64)
    if village is not None:
        if village not in inputs.village_codes:
            raise NotFoundError(f"unknown village {village!r}")
        units = units[blocks.area[units] == inputs.village_codes.index(village)]
        if blocks.road_m[units].sum() <= 0:
            raise PatrolRefused(f"village {village} has no roads")
    if keep_existing:
        kept = np.array([p == period for p in inputs.zone_periods], dtype=bool)
        units = np.setdiff1d(units, _units_in(model, inputs.zones_m[kept]))
    if zones > len(units):
        raise PatrolRefused(f"{zones} zones for {len(units)} street blocks: at most {len(units)}")
    if blocks.road_m[units].sum() <= 0:
        raise PatrolRefused("no roads to patrol in the blocks asked for")
    found = propose_zones(model.town, units, zones, by=by, pace=pace or Pace())
    hours = [z.hours for z in found]
    prefix = f"plan:{period}:{village or 'town'}:"
    first = 1 + (_last_number(inputs.zone_ids, prefix) if keep_existing else 0)
    out = []
    for n, z in enumerate(found, start=first):
        out.append(
            {
                "id": f"{prefix}{n}",
                "hours": round(z.hours, 3),
                "households": z.households,
                "road_m": round(z.road_m, 1),
                "route_m": round(z.route_m, 1),
                "pieces": z.pieces,
                "polsby_popper": round(z.polsby_popper, 4),
                "units": len(z.units),
                "_units": z.units,
            }
        )
    plan: dict[str, Any] = {
        "period": period,
        "by": by,
        "zones": out,
        "hours_max_min": round(max(hours) / max(min(hours), 1e-12), 4),
        "solve_s": round(time.perf_counter() - started, 2),
    }
    plan["_model"] = model
    return plan


def public(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan without its working parts (block numbers, the town model)."""
    out = {k: v for k, v in plan.items() if not k.startswith("_")}
    if "zones" in out:
        out["zones"] = [{k: v for k, v in z.items() if not k.startswith("_")} for z in out["zones"]]
    return out


def apply_patrol_zones(
    conn: Connection, principal: Principal, plan: dict[str, Any], *, keep_existing: bool
) -> list[int]:
    """Write the planned zones as the period's patrol zones (audited). A zone of the same id
    takes the new outline (its earlier one goes to `patrol_zone_history`, its shifts stay);
    the period's other zones are retired unless kept. Returns the zones' ids."""
    principal.require(Action.PLAN)
    model: TownModel = plan["_model"]
    period = str(plan["period"])
    created: list[int] = []
    blocks = model.town.blocks
    for zone in plan["zones"]:
        outline = zone_outline(blocks.geoms[zone["_units"]])
        lonlat = _to_lonlat(outline, model.inputs.epsg)
        village = np.bincount(blocks.area[zone["_units"]]).argmax()
        new_id = conn.execute(
            text(
                "INSERT INTO patrol_zones (source_id, name, period, village_id, geom)"
                " VALUES (:s, :name, :period, :village,"
                " ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromWKB(:wkb, 4326)), 3)))"
                " ON CONFLICT (source_id) DO UPDATE SET name = EXCLUDED.name,"
                " period = EXCLUDED.period, village_id = EXCLUDED.village_id,"
                " geom = EXCLUDED.geom, retired_at = NULL,"
                " version = patrol_zones.version + 1, updated_at = now()"
                " RETURNING id"
            ),
            {
                "s": zone["id"],
                "name": f"Patrol zone {zone['id'].rsplit(':', 1)[-1]} ({period})",
                "period": period,
                "village": int(model.inputs.village_ids[village]),
                "wkb": shapely.to_wkb(lonlat),
            },
        ).scalar_one()
        created.append(int(new_id))
    replaced: list[str] = []
    if not keep_existing:  # the period's other zones are retired; they and their shifts stay
        replaced = list(
            conn.execute(
                text(
                    "UPDATE patrol_zones SET retired_at = now(), updated_at = now(),"
                    " version = version + 1 WHERE period = :p AND retired_at IS NULL"
                    " AND NOT id = ANY(:kept) RETURNING source_id"
                ),
                {"p": period, "kept": created},
            ).scalars()
        )
    audit.record(
        conn,
        actor=principal.name,
        action="plan_patrol_zones",
        object_type="patrol_zone",
        object_ids=created,
        row_count=len(created),
        detail={
            "period": period,
            "by": plan["by"],
            "retired": sorted(replaced),
            "hours": [z["hours"] for z in plan["zones"]],
        },
    )
    return created
