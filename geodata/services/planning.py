"""Checkpoint and seal plans as a principal may make them, and applying them (audited)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geodata.analysis.coverage.closure import OPEN_STATES, SEALED, guarded
from geodata.analysis.coverage.metric import project_geoms, project_xy
from geodata.analysis.coverage.network import RoadNetwork
from geodata.analysis.placement.plan import PlanRequest, score_sites, solve_plan
from geodata.analysis.placement.seals import on_main_road, seal_plan
from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.errors import ConfigError, NotFoundError
from geodata.identifiers import check_identifier
from geodata.records.placement_inputs import Weighting, fetch_plan_inputs
from geodata.services.plan_files import read_candidates, read_demand

CHECKPOINT_KIND = {
    "checkpoint": "road",
    "compound_entrance": "compound_gate",
    "village_entrance": "village_gate",
    "road_crossing": "road",
    "road_junction": "road",
}


def checkpoint_plan_for(
    conn: Connection,
    principal: Principal,
    request: PlanRequest,
    *,
    weighting: Weighting = "members",
) -> dict[str, Any]:
    """The plan over the households of the principal's grids and the town's candidate sites."""
    principal.require(Action.PLAN)
    apply_scope(conn, principal)
    inputs = fetch_plan_inputs(conn, grid_ids=principal.grid_ids, weighting=weighting)
    return solve_plan(
        inputs.demand,
        inputs.sites,
        request,
        roads_lonlat=inputs.town.roads["geometry"].to_numpy(dtype=object),
    )


def checkpoint_plan_from_files(
    demand_path: Path, candidates_path: Path | None, request: PlanRequest, *, conn: Connection
) -> dict[str, Any]:
    """The plan over a demand file and a candidates file (or the town's sites)."""
    demand = read_demand(demand_path)
    inputs = fetch_plan_inputs(conn) if candidates_path is None or request.network else None
    sites = read_candidates(candidates_path) if candidates_path is not None else None
    if sites is None:
        assert inputs is not None
        sites = inputs.sites
    roads = inputs.town.roads["geometry"].to_numpy(dtype=object) if inputs is not None else None
    return solve_plan(demand, sites, request, roads_lonlat=roads)


def apply_checkpoint_plan(
    conn: Connection,
    principal: Principal,
    selected: list[dict[str, Any]],
    *,
    radius_m: float,
    staff_per_shift: int,
) -> list[int]:
    """Write the chosen sites as active checkpoints (existing ones are left as they are).

    A site at an entrance links to it and the entrance becomes a checkpoint entrance. A new
    site's id must pass `geodata.identifiers` (ConfigError naming the site otherwise, and
    nothing written). Returns the new checkpoints' ids; the change is audited.
    """
    principal.require(Action.PLAN)
    for number, site in enumerate(selected, start=1):
        if str(site.get("kind", "site")) != "checkpoint" and "id" in site:
            check_identifier(f"site {number}: id", str(site["id"]))  # before anything is written
    now = datetime.now(UTC)
    created: list[int] = []
    entrances_changed: list[int] = []
    for number, site in enumerate(selected, start=1):
        kind = str(site.get("kind", "site"))
        if kind == "checkpoint":
            continue
        lon, lat = float(site["lon"]), float(site["lat"])
        if not (np.isfinite(lon) and np.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
            raise ConfigError(f"site {number}: not a longitude/latitude")
        source_id = f"plan:{site.get('id', number)}"[:128]
        entrance = None
        if kind in ("compound_entrance", "village_entrance"):
            entrance = conn.execute(
                text(
                    "SELECT e.id, e.state, coalesce(e.village_id, c.village_id) FROM entrances e"
                    " LEFT JOIN compounds c ON c.id = e.compound_id WHERE e.source_id = :s"
                ),
                {"s": str(site["id"])},
            ).first()
        village_id = (
            entrance[2]
            if entrance is not None
            else conn.execute(
                text(
                    "SELECT id FROM villages WHERE ST_Intersects(geom,"
                    " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) ORDER BY id LIMIT 1"
                ),
                {"lon": lon, "lat": lat},
            ).scalar()
        )
        new_id = conn.execute(
            text(
                "INSERT INTO checkpoints (source_id, name, kind, state, staff_per_shift,"
                " radius_m, village_id, entrance_id, geom) VALUES (:source_id, :name, :kind,"
                " 'active', :staff, :radius, :village, :entrance,"
                " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
                " ON CONFLICT (source_id) DO NOTHING RETURNING id"
            ),
            {
                "source_id": source_id,
                "name": f"Planned checkpoint {number}",
                "kind": CHECKPOINT_KIND.get(kind, "monitoring_point"),
                "staff": staff_per_shift,
                "radius": radius_m,
                "village": village_id,
                "entrance": entrance[0] if entrance is not None else None,
                "lon": lon,
                "lat": lat,
            },
        ).scalar()
        if new_id is None:
            continue
        created.append(int(new_id))
        if entrance is not None and entrance[1] != "checkpoint":
            _set_entrance_state(conn, int(entrance[0]), entrance[1], "checkpoint", principal, now)
            entrances_changed.append(int(entrance[0]))
    audit.record(
        conn,
        actor=principal.name,
        action="plan_checkpoints",
        object_type="checkpoint",
        object_ids=created,
        row_count=len(created),
        detail={"entrances_changed": len(entrances_changed), "radius_m": radius_m},
    )
    return created


def _set_entrance_state(
    conn: Connection,
    entrance_id: int,
    from_state: str | None,
    to_state: str,
    principal: Principal,
    now: datetime,
) -> None:
    conn.execute(
        text(
            "UPDATE entrances SET state = :to, since = :now, changed_by = :who,"
            " version = version + 1, updated_at = now() WHERE id = :id"
        ),
        {"to": to_state, "now": now, "who": principal.name, "id": entrance_id},
    )
    conn.execute(
        text(
            "INSERT INTO entrance_events (entrance_id, at, from_state, to_state, user_name)"
            " VALUES (:id, :now, :from_state, :to, :who)"
        ),
        {
            "id": entrance_id,
            "now": now,
            "from_state": from_state,
            "to": to_state,
            "who": principal.name,
        },
    )


def _scope_villages(conn: Connection, principal: Principal) -> list[int] | None:
    if principal.grid_ids is None:
        return None
    rows = conn.execute(
        text("SELECT DISTINCT village_id FROM grids WHERE id = ANY(:g)"),
        {"g": sorted(principal.grid_ids)},
    )
    return [int(v) for (v,) in rows]


def seal_plan_for(
    conn: Connection, principal: Principal, *, compound_id: int | None = None
) -> list[dict[str, Any]]:
    """Per compound (of the principal's villages): the entrance kept open and those sealed."""
    principal.require(Action.PLAN)
    apply_scope(conn, principal)
    inputs = fetch_plan_inputs(conn)
    town = inputs.town
    epsg = town.metric_epsg()
    entrances = town.entrances.copy()
    entrances["source_id"] = entrances["id"].map(
        {int(i): str(s) for i, s in conn.execute(text("SELECT id, source_id FROM entrances"))}
    )
    compounds = town.compounds
    villages = _scope_villages(conn, principal)
    if villages is not None:
        allowed = compounds.loc[compounds["village_id"].isin(villages), "id"]
        entrances = entrances[entrances["compound_id"].isin(allowed)]
    if compound_id is not None:
        if not (entrances["compound_id"] == compound_id).any():
            raise NotFoundError(f"compound {compound_id}: no such compound with entrances")
        entrances = entrances[entrances["compound_id"] == compound_id]
    homes = pd.DataFrame(
        conn.execute(
            text(
                "SELECT b.compound_id, ST_X(c.p), ST_Y(c.p), count(h.id)"
                " FROM buildings b JOIN households h ON h.building_id = b.id"
                " CROSS JOIN LATERAL (SELECT ST_Centroid(b.geom) AS p) c"
                " WHERE b.compound_id IS NOT NULL GROUP BY b.id, c.p"
            )
        ).all(),
        columns=["compound_id", "lon", "lat", "households"],
    )
    xy = project_xy(homes["lon"].to_numpy(float), homes["lat"].to_numpy(float), epsg)
    homes["x"], homes["y"] = xy[:, 0], xy[:, 1]
    roads_m = project_geoms(town.roads["geometry"].to_numpy(dtype=object), epsg)
    network = RoadNetwork.from_lines(roads_m) if len(roads_m) else None
    active = town.checkpoints[town.checkpoints["active"].astype(bool)]
    entrance_xy = entrances[["x", "y"]].to_numpy(float)
    entrance_ids = entrances["id"].to_numpy(np.int64)
    is_guarded = guarded(
        entrance_xy,
        entrance_ids,
        active[["x", "y"]].to_numpy(float),
        active["entrance_id"].to_numpy(float),
    )
    is_main = on_main_road(entrance_xy, roads_m, town.roads["highway"].to_numpy())
    plans = seal_plan(
        entrances,
        homes,
        network=network,
        guarded_ids=set(entrance_ids[is_guarded].tolist()),
        main_road_ids=set(entrance_ids[is_main].tolist()),
    )
    return _named(conn, plans)


_NAMES = text(
    "SELECT e.id, e.name, c.id AS compound_id, c.name AS compound,"
    " row_number() OVER (PARTITION BY e.compound_id ORDER BY e.id) AS n"
    " FROM entrances e JOIN compounds c ON c.id = e.compound_id WHERE c.id = ANY(:ids)"
)


def _named(conn: Connection, plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each plan with its compound's name and each entrance's name as people say it: its own
    name, else "<compound> gate <n>" (the n-th of the compound's entrances)."""
    rows = conn.execute(_NAMES, {"ids": [p["compound_id"] for p in plans]}).mappings().all()
    compound = {int(r["compound_id"]): r["compound"] for r in rows}
    entrance = {
        int(r["id"]): r["name"] or f"{r['compound'] or ''} gate {r['n']}".strip() for r in rows
    }
    for plan in plans:
        plan["compound_name"] = compound.get(plan["compound_id"])
        for gate in (plan["keep"], *plan["seal"]):
            gate["name"] = entrance.get(int(gate["id"]), f"gate {gate['id']}")
        kept = plan["keep"]
        for gate in plan["seal"]:  # the reason names the kept entrance as people say it
            gate["reason"] = str(gate["reason"]).replace(str(kept["source_id"]), kept["name"])
    return plans


def apply_seal_plan(
    conn: Connection, principal: Principal, plans: list[dict[str, Any]]
) -> dict[str, int]:
    """Open each plan's kept entrance and seal the others, recording entrance events."""
    principal.require(Action.PLAN)
    now = datetime.now(UTC)
    opened = sealed = 0
    changed: list[int] = []
    for plan in plans:
        keep = plan["keep"]
        current = _state(conn, int(keep["id"]))
        if current not in OPEN_STATES:
            _set_entrance_state(conn, int(keep["id"]), current, "open", principal, now)
            opened += 1
            changed.append(int(keep["id"]))
        for gate in plan["seal"]:
            if int(gate["id"]) == int(keep["id"]):
                raise ConfigError("an entrance may not be both kept and sealed")
            state = _state(conn, int(gate["id"]))
            if state != SEALED:
                _set_entrance_state(conn, int(gate["id"]), state, SEALED, principal, now)
                sealed += 1
                changed.append(int(gate["id"]))
    audit.record(
        conn,
        actor=principal.name,
        action="plan_seals",
        object_type="entrance",
        object_ids=changed,
        row_count=len(changed),
        detail={"compounds": len(plans), "opened": opened, "sealed": sealed},
    )
    return {"compounds": len(plans), "opened": opened, "sealed": sealed}


def _state(conn: Connection, entrance_id: int) -> str | None:
    state = conn.execute(
        text("SELECT state FROM entrances WHERE id = :id FOR UPDATE"), {"id": entrance_id}
    ).scalar()
    if state is None:
        raise NotFoundError(f"entrance {entrance_id}: no such entrance")
    return str(state)


def candidate_sites_for(conn: Connection, principal: Principal) -> pd.DataFrame:
    """The town's candidate sites (id, kind, lon, lat), active checkpoints first."""
    principal.require(Action.PLAN)
    apply_scope(conn, principal)
    return fetch_plan_inputs(conn, grid_ids=principal.grid_ids).sites


def score_sites_for(
    conn: Connection,
    principal: Principal,
    sites: pd.DataFrame | None,
    *,
    radius_m: float,
    network: bool = False,
) -> dict[str, Any]:
    """The demand of the principal's grids that `sites` (None: the active checkpoints) reach."""
    principal.require(Action.PLAN)
    apply_scope(conn, principal)
    inputs = fetch_plan_inputs(conn, grid_ids=principal.grid_ids)
    if sites is None:
        sites = inputs.sites[inputs.sites["kind"] == "checkpoint"].reset_index(drop=True)
    scored = score_sites(
        inputs.demand,
        sites,
        radius_m=radius_m,
        network=network,
        roads_lonlat=inputs.town.roads["geometry"].to_numpy(dtype=object) if network else None,
    )
    for row, site in zip(sites.to_dict("records"), scored["sites"], strict=True):
        site["id"] = str(row.get("id", ""))
        site["kind"] = str(row.get("kind", "site"))
    return scored
