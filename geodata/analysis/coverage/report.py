"""The coverage report: every figure per grid, rolled up, with the offending items if asked."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geodata.analysis.coverage import closure, leaks, patrol, reach, screening, staffing
from geodata.analysis.coverage.inputs import CoverageInputs
from geodata.analysis.coverage.metric import project_geoms, project_xy, unproject_xy
from geodata.analysis.coverage.network import RoadNetwork, network_reached
from geodata.analysis.coverage.places import grid_positions
from geodata.analysis.coverage.rollup import Level, count_by_grid, roll_up

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

FIGURES = (
    "households",
    "reached",
    "screened_24h",
    "screened",
    "never_visited",
    "buildings_without_households",
    "compounds",
    "compounds_compliant",
    "compounds_no_open_entrance",
    "compounds_breach",
    "leaks",
    "checkpoints",
    "checkpoints_fully_staffed",
)
HOUSEHOLD_FIGURES = (
    "households",
    "reached",
    "screened_24h",
    "screened",
    "never_visited",
    "buildings_without_households",
    "households_patrolled_day",
    "households_patrolled_night",
)
"""The per-grid figures counted from households and buildings (see `household_counts`)."""
ROAD_FIGURES = ("road_dm", "road_dm_patrolled_day", "road_dm_patrolled_night")
"""Per grid, the road length and the length inside a staffed zone by day and by night (dm)."""
ITEM_KINDS = (
    "unreached_households",
    "never_visited",
    "buildings_without_households",
    "compounds_breach",
    "compounds_no_open_entrance",
    "leaks",
    "checkpoints_understaffed",
)
COORD_DIGITS = 6


def _text(value: object) -> str | None:
    """A name as text; SQL NULL (None or NaN after pandas) as None."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


@dataclass(frozen=True)
class _Town:
    """The inputs placed in the town's metric CRS, each item with its grid position."""

    inputs: CoverageInputs
    epsg: int
    grid_geoms_m: NDArray[np.object_]
    grid_tree: shapely.STRtree
    grid_village: Floats

    def xy(self, frame: pd.DataFrame) -> Floats:
        """Positions in metres: as read, when projected already into this CRS."""
        if self.inputs.epsg == self.epsg and {"x", "y"} <= set(frame.columns):
            return np.column_stack([frame["x"].to_numpy(float), frame["y"].to_numpy(float)])
        return project_xy(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float), self.epsg)

    def grid_of(self, xy: Floats, village_ids: Any) -> Ints:
        return grid_positions(
            xy,
            np.asarray(village_ids, dtype=float),
            self.grid_geoms_m,
            self.grid_village.astype(np.int64),
            tree=self.grid_tree,
        )

    def grid_of_ids(self, grid_ids: pd.Series) -> Ints:
        return np.asarray(pd.Index(self.inputs.grids["id"]).get_indexer(grid_ids), dtype=np.int64)


def _place(inputs: CoverageInputs) -> _Town:
    epsg = inputs.metric_epsg()
    geoms = project_geoms(np.asarray(inputs.grids["geometry"], dtype=object), epsg)
    return _Town(
        inputs=inputs,
        epsg=epsg,
        grid_geoms_m=geoms,
        grid_tree=shapely.STRtree(geoms),
        grid_village=inputs.grids["village_id"].to_numpy(float),
    )


def household_reach(town: _Town, *, radius_m: float | None, network: bool) -> tuple[Floats, Bools]:
    """Household positions (metres; NaN: no building) and whether each is reached."""
    inputs = town.inputs
    hh_xy = town.xy(inputs.households)
    cps = inputs.checkpoints[inputs.checkpoints["active"].to_numpy(bool)]
    cp_xy = town.xy(cps)
    radii = reach.checkpoint_radii_m(cps["radius_m"].to_numpy(float), radius_m=radius_m)
    placed = np.isfinite(hh_xy).all(axis=1)
    everywhere = bool(placed.all())
    points = hh_xy if everywhere else hh_xy[placed]
    found = reach.straight_reached(points, cp_xy, radii)
    if network:
        roads = RoadNetwork.from_lines(
            project_geoms(np.asarray(inputs.roads["geometry"], dtype=object), town.epsg)
        )
        # Along the roads is never nearer than in a straight line.
        found &= network_reached(roads, points, cp_xy, radii)
    if everywhere:
        return hh_xy, found
    reached = np.zeros(len(hh_xy), dtype=bool)
    reached[placed] = found
    return hh_xy, reached


def coverage_report(
    inputs: CoverageInputs,
    *,
    radius_m: float | None = None,
    network: bool = False,
    level: Level = "grid",
    with_items: bool = False,
    item_kinds: Collection[str] | None = None,
    screening_hours: float = screening.SCREENING_HOURS,
    household_counts: dict[str, Ints] | None = None,
) -> dict[str, Any]:
    """Every coverage figure for the grids in `inputs.grid_ids` (None: all), rolled up.

    `household_counts` gives the figures of HOUSEHOLD_FIGURES per grid (in the order of
    `inputs.grids`) instead of counting `inputs.households` and `inputs.buildings`, and may
    give those of ROAD_FIGURES (see `patrol_road_counts`) too: what
    geodata.records.coverage_cache keeps of this function's own results.

    `screening_hours` is the screening window: `screened` counts the households seen in it
    (`screened_24h`, in the last 24 h, stays beside it).

    The shape: ``{"as_of", "radius_m", "window_h", "town", "villages", "grids", "patrol"}``
    and, with `with_items`, ``"items"`` listing the offending objects by id, name and
    position: every kind of ITEM_KINDS, or only those in `item_kinds`. ``"patrol"`` holds,
    for ``"day"`` and ``"night"``, the households and road length inside a patrol zone with
    a team (counts, kilometres and percentages), for the town and for the villages and grids
    as listed above, and ``"zones_without_team"``: how many zones have no team.
    """
    town = _place(inputs)
    grids = inputs.grids
    n_grids = len(grids)
    per_grid: dict[str, Ints] = {}
    items: dict[str, list[dict[str, Any]]] = {}

    if household_counts is not None:
        if with_items:
            raise ValueError("households given as counts per grid cannot be listed as items")
        per_grid.update({k: np.asarray(household_counts[k], np.int64) for k in HOUSEHOLD_FIGURES})
        hh_xy, hh_grid, weights = np.empty((0, 2)), np.empty(0, np.int64), None
    else:
        # Households: reach and screening.
        hh = inputs.households
        hh_xy, reached = household_reach(town, radius_m=radius_m, network=network)
        hh_grid = town.grid_of_ids(hh["grid_id"])
        unassigned = (hh_grid < 0) & np.isfinite(hh_xy).all(axis=1)
        if unassigned.any():
            hh_grid[unassigned] = town.grid_of(hh_xy[unassigned], np.full(unassigned.sum(), np.nan))
        weights = hh["n"].to_numpy(np.int64) if "n" in hh.columns else None
        per_grid["households"] = count_by_grid(hh_grid, n_grids, weights=weights)
        per_grid["reached"] = count_by_grid(hh_grid, n_grids, reached, weights=weights)
        if weights is not None:
            # Counted per building by the database, for this window (see fetch_inputs).
            if with_items:
                raise ValueError("households counted per building cannot be listed as items")
            for name, column in (
                ("screened_24h", "screened_24h"),
                ("screened", "screened"),
                ("never_visited", "never"),
            ):
                per_grid[name] = count_by_grid(
                    hh_grid, n_grids, weights=hh[column].to_numpy(np.int64)
                )
        else:
            last = hh["last_visit_s"].to_numpy(float)
            screened = screening.screened_within(last, inputs.as_of_s, hours=screening_hours)
            screened_24h = screening.screened_within(last, inputs.as_of_s)
            never = screening.never_visited(last)
            per_grid["screened_24h"] = count_by_grid(hh_grid, n_grids, screened_24h)
            per_grid["screened"] = count_by_grid(hh_grid, n_grids, screened)
            per_grid["never_visited"] = count_by_grid(hh_grid, n_grids, never)

        # Buildings no household is registered in.
        bd = inputs.buildings
        bd_grid = town.grid_of_ids(bd["grid_id"])
        bd_xy = town.xy(bd)
        lost = (bd_grid < 0) & np.isfinite(bd_xy).all(axis=1)
        if lost.any():
            bd_grid[lost] = town.grid_of(bd_xy[lost], np.full(lost.sum(), np.nan))
        empty = screening.buildings_without_households(
            bd["id"].to_numpy(np.int64),
            bd_grid,
            hh["building_id"].dropna().to_numpy(np.int64),
            hh_grid,
        )
        per_grid["buildings_without_households"] = count_by_grid(bd_grid, n_grids, empty)

    # Checkpoints: active ones, staffed now and over the next 24 hours.
    cps = inputs.checkpoints[inputs.checkpoints["active"].to_numpy(bool)].reset_index(drop=True)
    cp_xy = town.xy(cps)
    cp_grid = town.grid_of(cp_xy, cps["village_id"])
    cp_ids = cps["id"].to_numpy(np.int64)
    required = cps["staff_per_shift"].to_numpy(np.int64)
    hours = staffing.staffed_hours(
        cp_ids, required, inputs.shifts, staffing.window_start_s(inputs.as_of_s)
    )
    full = hours >= staffing.WINDOW_HOURS
    on_duty = staffing.staffed_at(cp_ids, required, inputs.shifts, inputs.as_of_s)
    cp_entrance = cps["entrance_id"].to_numpy(float)
    per_grid["checkpoints"] = count_by_grid(cp_grid, n_grids)
    per_grid["checkpoints_fully_staffed"] = count_by_grid(cp_grid, n_grids, full)

    # Compounds: open entrances as of the moment.
    en = inputs.entrances[inputs.entrances["state"].notna()].reset_index(drop=True)
    en_xy = town.xy(en)
    en_ids = en["id"].to_numpy(np.int64)
    en_open = closure.is_open(en["state"])
    guarded = closure.guarded(en_xy, en_ids, cp_xy, cp_entrance)
    co = inputs.compounds
    co_ids = co["id"].to_numpy(np.int64)
    co_grid = town.grid_of(town.xy(co), co["village_id"])
    en_compound = en["compound_id"].to_numpy(float)
    open_counts = closure.open_entrance_counts(co_ids, en_compound, en_open)
    unguarded_counts = closure.open_entrance_counts(co_ids, en_compound, en_open & ~guarded)
    compound_flags = closure.compound_figures(open_counts)
    per_grid["compounds"] = count_by_grid(co_grid, n_grids)
    for name, flag in compound_flags.items():
        per_grid[name] = count_by_grid(co_grid, n_grids, flag)

    # Leaks across village boundaries.
    vi = inputs.villages
    road_geoms_m = project_geoms(np.asarray(inputs.roads["geometry"], dtype=object), town.epsg)
    crossings = (
        inputs.crossings
        if inputs.crossings is not None
        else leaks.road_crossings(
            project_geoms(np.asarray(vi["geometry"], dtype=object), town.epsg),
            vi["id"].to_numpy(np.int64),
            road_geoms_m,
            inputs.roads["id"].to_numpy(np.int64),
        )
    )
    staffed_guard = closure.guarded(en_xy, en_ids, cp_xy[on_duty], cp_entrance[on_duty])
    closed = np.asarray(en["state"] == closure.SEALED) | (en_open & staffed_guard)
    is_leak = leaks.leaking(crossings, en_xy, en["village_id"].to_numpy(float), closed)
    cr_xy = crossings[["x", "y"]].to_numpy(float)
    cr_grid = town.grid_of(cr_xy, crossings["village_id"])
    per_grid["leaks"] = count_by_grid(cr_grid, n_grids, is_leak)

    # Patrols: households and road length inside a staffed zone, per time of day.
    pz = inputs.patrol_zones
    if household_counts is not None and all(k in household_counts for k in ROAD_FIGURES):
        patrol_counts = {k: np.asarray(household_counts[k], np.int64) for k in ROAD_FIGURES}
    else:
        patrol_counts = patrol.as_counts(
            patrol.patrol_figures(
                pz,
                project_geoms(np.asarray(pz["geometry"], dtype=object), town.epsg),
                hh_xy,
                hh_grid,
                town.grid_geoms_m,
                road_geoms_m,
                grid_tree=town.grid_tree,
                household_weights=weights,
            )
        )
    if household_counts is not None:
        for period in patrol.PERIODS:
            name = f"households_patrolled_{period}"
            patrol_counts[name] = np.asarray(household_counts[name], np.int64)
        patrol_counts["households"] = per_grid["households"]

    scope = (
        np.ones(n_grids, dtype=bool)
        if inputs.grid_ids is None
        else np.isin(grids["id"].to_numpy(np.int64), np.fromiter(inputs.grid_ids, np.int64))
    )
    ordered = {k: per_grid[k] for k in FIGURES}
    result: dict[str, Any] = {
        "as_of": inputs.as_of.isoformat(),
        "radius_m": radius_m,
        "window_h": screening_hours,
        **roll_up(ordered, grids, vi, scope, level=level),
        "patrol": _patrol_section(
            patrol_counts,
            inputs,
            scope,
            level=level,
            with_items=with_items,
        ),
    }
    if not with_items:
        return result

    codes: list[str] = [str(c) for c in grids["code"].tolist()]

    def in_scope(grid_pos: Ints) -> list[int]:
        pos = np.asarray(grid_pos)
        return [int(i) for i in np.flatnonzero((pos >= 0) & scope[np.maximum(pos, 0)])]

    def where(mask: Bools, grid_pos: Ints) -> list[int]:
        return in_scope(np.where(np.asarray(mask, dtype=bool), grid_pos, -1))

    def grid_code(pos: Any) -> str | None:
        return codes[int(pos)] if int(pos) >= 0 else None

    def located(frame: pd.DataFrame) -> list[dict[str, float | None]]:
        lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
        return [_position(x, y) for x, y in zip(lon.tolist(), lat.tolist(), strict=True)]

    def ids(frame: pd.DataFrame, column: str = "id") -> list[int | None]:
        return [None if pd.isna(v) else int(v) for v in frame[column].tolist()]

    hh_ids, hh_buildings, hh_at = ids(hh), ids(hh, "building_id"), located(hh)

    def households_where(mask: Bools) -> list[dict[str, Any]]:
        return [
            {
                "id": hh_ids[i],
                "grid": grid_code(hh_grid[i]),
                "building_id": hh_buildings[i],
                **hh_at[i],
            }
            for i in where(mask, hh_grid)
        ]

    items["unreached_households"] = households_where(~reached)
    items["never_visited"] = households_where(never)
    bd_ids, bd_at = ids(bd), located(bd)
    items["buildings_without_households"] = [
        {"id": bd_ids[i], "grid": grid_code(bd_grid[i]), **bd_at[i]} for i in where(empty, bd_grid)
    ]
    co_names, co_at = [_text(v) for v in co["name"].tolist()], located(co)
    for kind in ("compounds_breach", "compounds_no_open_entrance"):
        items[kind] = [
            {
                "id": int(co_ids[i]),
                "name": co_names[i],
                "grid": grid_code(co_grid[i]),
                "open_entrances": int(open_counts[i]),
                "unguarded_open_entrances": int(unguarded_counts[i]),
                **co_at[i],
            }
            for i in where(compound_flags[kind], co_grid)
        ]
    road_name = dict(zip(inputs.roads["id"].tolist(), inputs.roads["name"].tolist(), strict=True))
    road_kind = dict(
        zip(inputs.roads["id"].tolist(), inputs.roads["highway"].tolist(), strict=True)
    )
    village_code = dict(zip(vi["id"].tolist(), vi["code"].tolist(), strict=True))
    cr_lonlat = unproject_xy(cr_xy, town.epsg) if len(cr_xy) else np.empty((0, 2))
    cr_village, cr_road = crossings["village_id"].tolist(), crossings["road_id"].tolist()
    items["leaks"] = [
        {
            "village": village_code.get(cr_village[i]),
            "grid": grid_code(cr_grid[i]),
            "road_id": int(cr_road[i]),
            "road_name": _text(road_name.get(cr_road[i])),
            "highway": _text(road_kind.get(cr_road[i])),
            **_position(float(cr_lonlat[i, 0]), float(cr_lonlat[i, 1])),
        }
        for i in where(is_leak, cr_grid)
    ]
    cp_names, cp_at = [_text(v) for v in cps["name"].tolist()], located(cps)
    items["checkpoints_understaffed"] = [
        {
            "id": int(cp_ids[i]),
            "name": cp_names[i],
            "grid": grid_code(cp_grid[i]),
            "staffed_hours": int(hours[i]),
            "required_staff": int(required[i]),
            **cp_at[i],
        }
        for i in where(~full, cp_grid)
    ]
    result["items"] = {k: items[k] for k in ITEM_KINDS if item_kinds is None or k in item_kinds}
    return result


def road_crossings(inputs: CoverageInputs) -> pd.DataFrame:
    """Where the roads cross the villages' boundaries, as coverage_report finds them."""
    epsg = inputs.metric_epsg()
    vi = inputs.villages
    return leaks.road_crossings(
        project_geoms(np.asarray(vi["geometry"], dtype=object), epsg),
        vi["id"].to_numpy(np.int64),
        project_geoms(np.asarray(inputs.roads["geometry"], dtype=object), epsg),
        inputs.roads["id"].to_numpy(np.int64),
    )


def patrol_road_counts(inputs: CoverageInputs) -> dict[str, Ints]:
    """ROAD_FIGURES per grid (in the order of `inputs.grids`), as coverage_report counts them."""
    town = _place(inputs)
    pz = inputs.patrol_zones
    counts = patrol.as_counts(
        patrol.patrol_figures(
            pz,
            project_geoms(np.asarray(pz["geometry"], dtype=object), town.epsg),
            np.empty((0, 2)),
            np.empty(0, np.int64),
            town.grid_geoms_m,
            project_geoms(np.asarray(inputs.roads["geometry"], dtype=object), town.epsg),
            grid_tree=town.grid_tree,
        )
    )
    return {k: counts[k] for k in ROAD_FIGURES}


def _patrol_section(
    counts: dict[str, Ints],
    inputs: CoverageInputs,
    scope: Bools,
    *,
    level: Level,
    with_items: bool,
) -> dict[str, Any]:
    """Shares of households and road length in a patrol zone with people on a shift in its
    period, day and night, rolled up as the figures are; and the zones (in the villages in
    scope) with no team, and with nobody on a shift."""
    grids, villages = inputs.grids, inputs.villages
    rolled = roll_up(counts, grids, villages, scope, level=level)

    def periods(sums: dict[str, Any]) -> dict[str, Any]:
        return {p: patrol.period_figures(sums, p) for p in patrol.PERIODS}

    lacking = {
        "zones_without_team": patrol.zones_without_team(inputs.patrol_zones),
        "zones_without_shift": patrol.zones_without_shift(inputs.patrol_zones),
    }
    if inputs.grid_ids is not None:
        mine = set(grids["village_id"].to_numpy(float)[scope].tolist())
        lacking = {k: z[z["village_id"].astype(float).isin(mine)] for k, z in lacking.items()}
    section: dict[str, Any] = {
        **periods(rolled["town"]),
        **{key: len(zones) for key, zones in lacking.items()},
        "villages": [
            {"code": v["code"], "name": v["name"], **periods(v)} for v in rolled["villages"]
        ],
        "grids": [
            {"code": g["code"], "name": g["name"], "village": g["village"], **periods(g)}
            for g in rolled["grids"]
        ],
    }
    if with_items:
        village_code = dict(zip(villages["id"].tolist(), villages["code"].tolist(), strict=True))
        for key, zones in lacking.items():
            section[f"{key}_items"] = [
                {
                    "id": int(zone_id),
                    "name": _text(name),
                    "period": str(period),
                    "village": None if pd.isna(vid) else village_code.get(int(vid)),
                }
                for zone_id, name, period, vid in zones[
                    ["id", "name", "period", "village_id"]
                ].itertuples(index=False, name=None)
            ]
    return section


def _position(lon: float, lat: float) -> dict[str, float | None]:
    if not (np.isfinite(lon) and np.isfinite(lat)):
        return {"lon": None, "lat": None}
    return {"lon": round(lon, COORD_DIGITS), "lat": round(lat, COORD_DIGITS)}
