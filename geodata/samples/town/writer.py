"""COPY a planned sample town into the database, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection, bindparam, text

from geodata.db.bulk import copy_frame
from geodata.samples.osm_extract import WGS84
from geodata.samples.town.geometry import Ints
from geodata.samples.town.isolation import occupy_isolation_site
from geodata.samples.town.plan import TownPlan, serial_ids
from geodata.town_time import TOWN_TIMEZONE


def reserve_ids(conn: Connection, table: str, n: int) -> Ints:
    """``n`` ids drawn from the table's identity sequence, for rows referenced by others."""
    rows = conn.execute(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table, "n": n},
    ).scalars()
    return np.fromiter(rows, dtype=np.int64, count=n)


def ref(ids: Ints, position: npt.ArrayLike) -> pd.arrays.IntegerArray:
    """Database ids for positions into a planned frame; -1 becomes NULL."""
    pos = np.asarray(position, dtype=np.int64)
    values = ids[np.maximum(pos, 0)] if ids.size else np.zeros(pos.size, dtype=np.int64)
    return pd.arrays.IntegerArray(values, mask=pos < 0)


def geoms(shapes: Any) -> gpd.GeoSeries:
    return gpd.GeoSeries(np.asarray(shapes, dtype=object), crs=WGS84)


_CHECKS_AT_VISITS = text(
    "INSERT INTO quarantine_checks (quarantine_id, grid_id, checked_at, temperature_c,"
    " recorded_by) SELECT q.id, q.grid_id, v.visited_at,"
    " 36.0 + (abs(hashtext(q.id::text || v.id::text)) % 9) / 10.0, 'sample town'"
    " FROM quarantines q JOIN residents r ON r.id = q.resident_id"
    " JOIN visits v ON v.household_id = r.household_id AND v.result <> 'nobody_home'"
    " AND v.visited_at >= q.starts_at AND v.visited_at < coalesce(q.released_at, q.ends_at)"
)
"""36.0 to 36.8 °C, the same for the same quarantine and visit."""


def write_plan(conn: Connection, plan: TownPlan) -> dict[str, int]:
    """COPY every planned row into the database; rows per table."""
    referenced = {
        "villages": plan.villages,
        "grids": plan.grids,
        "compounds": plan.compounds,
        "buildings": plan.buildings,
        "households": plan.households,
        "entrances": plan.entrances,
        "teams": plan.teams,
        "staff": plan.staff,
        "checkpoints": plan.checkpoints,
        "patrol_zones": plan.patrol_zones,
    }
    ids = {table: reserve_ids(conn, table, len(frame)) for table, frame in referenced.items()}
    counts: dict[str, int] = {}

    def copy(table: str, frame: pd.DataFrame, columns: Sequence[str], **computed: Any) -> None:
        """The table's reserved ids, the frame's ``columns``, the ``computed`` ones, geometry."""
        data: dict[str, Any] = {"id": ids[table]} if table in ids else {}
        data |= {name: frame[name].to_numpy() for name in columns}
        data |= computed
        if isinstance(frame, gpd.GeoDataFrame):
            data["geom"] = geoms(frame.geometry.to_numpy())
        counts[table] = copy_frame(conn, table, pd.DataFrame(data))

    village, grid, compound = ids["villages"], ids["grids"], ids["compounds"]
    household, entrance, team, staff = (
        ids["households"],
        ids["entrances"],
        ids["teams"],
        ids["staff"],
    )
    copy("villages", plan.villages, ("source_id", "code", "name", "kind", "population"))
    copy(
        "grids",
        plan.grids,
        ("source_id", "code", "name"),
        village_id=village[plan.grids["village"]],
    )
    copy(
        "compounds",
        plan.compounds,
        ("source_id", "name", "kind", "closure"),
        village_id=village[plan.compounds["village"]],
    )
    copy(
        "buildings",
        plan.buildings,
        ("source_id", "name", "floors", "use"),
        compound_id=ref(compound, plan.buildings["compound"]),
        grid_id=grid[plan.buildings["grid"]],
    )
    copy("roads", plan.roads, ("source_id", "highway", "name"))
    copy(
        "households",
        plan.households,
        ("source_id", "unit", "room", "members", "status"),
        building_id=ids["buildings"][plan.households["building"]],
        grid_id=grid[plan.households["grid"]],
    )
    copy(
        "residents",
        plan.residents,
        (
            "name",
            "id_number",
            "phone",
            "returnee",
            "origin",
            "returned_on",
            "close_contact",
            "fever",
            "quarantine_until",
        ),
        source_id=serial_ids("sample:resident/", len(plan.residents)),
        household_id=household[plan.residents["household"]],
        grid_id=grid[plan.residents["grid"]],
    )
    copy(
        "entrances",
        plan.entrances,
        ("source_id", "name", "state", "since", "changed_by"),
        compound_id=ref(compound, plan.entrances["compound"]),
        village_id=ref(village, plan.entrances["village"]),
    )
    events = plan.entrances[["since", "state", "changed_by"]]
    copy(
        "entrance_events",
        events,
        (),
        entrance_id=entrance,
        at=events["since"].to_numpy(),
        from_state=[None] * len(events),
        to_state=events["state"].to_numpy(),
        user_name=events["changed_by"].to_numpy(),
    )
    copy(
        "teams",
        plan.teams,
        ("source_id", "name", "kind"),
        village_id=village[plan.teams["village"]],
        parent_id=ref(team, plan.teams["parent"]),
    )
    copy(
        "staff",
        plan.staff,
        ("source_id", "name", "role", "phone"),
        village_id=village[plan.staff["village"]],
        team_id=ref(team, plan.staff["team"]),
        grid_id=ref(grid, plan.staff["grid"]),
    )
    heads = plan.staff.index.to_numpy()
    yard, building = plan.staff["compound"].to_numpy(), plan.staff["building"].to_numpy()
    _set_responsible(conn, "grids", "leader_id", grid, staff[plan.grids["leader"]])
    _set_responsible(conn, "villages", "secretary_id", village, staff[plan.villages["secretary"]])
    _set_responsible(
        conn, "compounds", "head_id", compound[yard[yard >= 0]], staff[heads[yard >= 0]]
    )
    _set_responsible(
        conn,
        "buildings",
        "head_id",
        ids["buildings"][building[building >= 0]],
        staff[heads[building >= 0]],
    )
    copy(
        "checkpoints",
        plan.checkpoints,
        ("source_id", "name", "kind", "state", "staff_per_shift", "radius_m", "created_at"),
        village_id=village[plan.checkpoints["village"]],
        entrance_id=entrance[plan.checkpoints["entrance"]],
    )
    copy(
        "patrol_zones",
        plan.patrol_zones,
        ("source_id", "name", "period"),
        team_id=team[plan.patrol_zones["team"]],
        village_id=village[plan.patrol_zones["village"]],
    )
    shift = reserve_ids(conn, "checkpoint_shifts", len(plan.shifts))
    copy(
        "checkpoint_shifts",
        plan.shifts,
        ("source_id", "starts_at", "ends_at", "staff_count"),
        id=shift,
        checkpoint_id=ref(ids["checkpoints"], plan.shifts["checkpoint"]),
        patrol_zone_id=ref(ids["patrol_zones"], plan.shifts["zone"]),
    )
    on = plan.shift_staff["shift"].to_numpy()
    copy(
        "shift_staff",
        plan.shift_staff,
        (),
        shift_id=shift[on],
        staff_id=staff[plan.shift_staff["staff"]],
        starts_at=plan.shifts["starts_at"].to_numpy()[on],
        ends_at=plan.shifts["ends_at"].to_numpy()[on],
    )
    copy(
        "isolation_sites",
        plan.isolation_sites,
        ("source_id", "name", "beds", "beds_used", "reserve_rooms"),
    )
    copy(
        "visits",
        plan.visits,
        ("source_id", "visited_at", "result", "fever_count"),
        household_id=household[plan.visits["household"]],
        grid_id=grid[plan.visits["grid"]],
        worker_id=staff[plan.visits["worker"]],
    )
    copy("campaigns", plan.campaigns, ("name", "starts_at", "deadline"))
    counts["campaign_grids"] = conn.execute(
        text("INSERT INTO campaign_grids (campaign_id, grid_id) SELECT c.id, g.id"
             " FROM campaigns c CROSS JOIN grids g")
    ).rowcount  # fmt: skip
    # every site's rooms and beds (migration 0015's function)
    counts["isolation_beds"] = int(
        conn.execute(text("SELECT isolation_beds_for_sites()")).scalar_one()
    )
    # the residents in quarantine become quarantine records (migration 0014's function)
    counts["quarantines"] = int(
        conn.execute(
            text("SELECT quarantines_from_residents(:zone)"), {"zone": TOWN_TIMEZONE.key}
        ).scalar_one()
    )
    # each visit that saw a household in quarantine took its quarantined people's temperature
    counts["quarantine_checks"] = conn.execute(_CHECKS_AT_VISITS).rowcount
    # most of the isolation site's beds taken, a few people waiting for one
    for table, n in occupy_isolation_site(conn).items():
        counts[table] = counts.get(table, 0) + n
    return counts


def _set_responsible(conn: Connection, table: str, column: str, ids: Ints, staff: Ints) -> None:
    """The person responsible for each row of `table` (`column` = their staff id)."""
    conn.execute(
        text(
            f"UPDATE {table} SET {column} = v.person "  # noqa: S608 (table and column written in code; ids are bound)
            f"FROM unnest(:ids, :people) AS v(id, person) WHERE {table}.id = v.id"
        ).bindparams(bindparam("ids"), bindparam("people")),
        {"ids": ids.tolist(), "people": staff.tolist()},
    )
