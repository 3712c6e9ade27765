"""The sample town's people and units: per village a combat unit with its groups, the people
responsible at every level, and the people on every checkpoint shift."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.samples.people import chinese_names, synthetic_phones
from geodata.samples.town.plan import serial_ids

UNIT_GROUPS = (
    ("unit", "combat_unit", "作战单元"),
    ("checkpoint", "checkpoint", "卡点组"),
    ("emergency", "emergency", "应急组"),
    ("day", "patrol", "日间巡逻队"),
    ("night", "patrol", "夜间巡逻队"),
)
"""A village's teams, in this order: its combat unit first, the unit's groups after it."""
EMERGENCY_SIZE = 4
BUILDING_HEAD_HOUSEHOLDS = 8
"""A building of at least this many households has a building head."""


def plan_teams(villages: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per village its combat unit and groups (UNIT_GROUPS), then per grid its household-visit
    group; `parent` is the position of the village's combat unit (-1 for the unit)."""
    rows = [
        {
            "source_id": f"sample:team/{code}-{slug}",
            "name": f"{name}{label}",
            "kind": kind,
            "village": v,
            "parent": -1 if kind == "combat_unit" else v * len(UNIT_GROUPS),
        }
        for v, (code, name) in enumerate(zip(villages["code"], villages["name"], strict=True))
        for slug, kind, label in UNIT_GROUPS
    ]
    rows += [
        {
            "source_id": f"sample:team/{code}-visits",
            "name": f"{code}网格入户组",
            "kind": "household_visit",
            "village": int(v),
            "parent": int(v) * len(UNIT_GROUPS),
        }
        for code, v in zip(grids["code"], grids["village"], strict=True)
    ]
    return pd.DataFrame(rows)


def team_of(teams: pd.DataFrame, village: np.ndarray, slug: str) -> np.ndarray:
    """The position of each village's team `slug` (UNIT_GROUPS)."""
    offset = [s for s, _, _ in UNIT_GROUPS].index(slug)
    return np.asarray(village, dtype=np.int64) * len(UNIT_GROUPS) + offset


def plan_staff(
    rng: np.random.Generator,
    villages: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    households: pd.DataFrame,
    teams: pd.DataFrame,
    checkpoints: pd.DataFrame,
) -> pd.DataFrame:
    """In this order: grid leaders (one per grid, in grid order), grid workers (2 per grid),
    checkpoint staff (3 × staff per shift per checkpoint: one per shift of the day), patrols
    (4-6 per patrol team), the emergency group (EMERGENCY_SIZE per village), village
    secretaries, yard heads (one per compound), building heads."""
    n_grids, n_villages = len(grids), len(villages)
    grid_village = grids["village"].to_numpy()
    visit_team = np.arange(n_grids) + n_villages * len(UNIT_GROUPS)
    on_checkpoints = 3 * checkpoints["staff_per_shift"].to_numpy()
    cp_village = np.repeat(checkpoints["village"].to_numpy(), on_checkpoints)
    patrol = rng.integers(4, 7, size=(n_villages, 2))
    patrol_village = np.repeat(np.repeat(np.arange(n_villages), 2), patrol.ravel())
    patrol_team = np.repeat(
        np.column_stack(
            [team_of(teams, np.arange(n_villages), s) for s in ("day", "night")]
        ).ravel(),
        patrol.ravel(),
    )
    emergency_village = np.repeat(np.arange(n_villages), EMERGENCY_SIZE)
    building_grid = buildings["grid"].to_numpy()
    compound_building = (
        pd.Series(np.arange(len(buildings)))
        .groupby(buildings["compound"].to_numpy())
        .first()
        .reindex(range(len(compounds)))
        .to_numpy()
    )
    compound_grid = building_grid[compound_building.astype(np.int64)]
    per_building = np.bincount(households["building"], minlength=len(buildings))
    headed = np.flatnonzero(per_building >= BUILDING_HEAD_HOUSEHOLDS)
    n_compounds = len(compounds)
    parts: list[tuple[str, npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]] = [
        ("grid_leader", grid_village, np.arange(n_grids), visit_team),
        ("grid_worker", np.repeat(grid_village, 2), np.repeat(np.arange(n_grids), 2),
         np.repeat(visit_team, 2)),
        ("checkpoint_staff", cp_village, -1, team_of(teams, cp_village, "checkpoint")),
        ("patrol", patrol_village, -1, patrol_team),
        ("patrol", emergency_village, -1, team_of(teams, emergency_village, "emergency")),
        ("village_secretary", np.arange(n_villages), -1,
         team_of(teams, np.arange(n_villages), "unit")),
        ("yard_head", compounds["village"].to_numpy(), compound_grid, -1),
        ("building_head", grid_village[building_grid[headed]], building_grid[headed], -1),
    ]  # fmt: skip
    frame: pd.DataFrame = pd.concat(
        [
            pd.DataFrame(
                {
                    "role": role,
                    "village": (at := np.asarray(village, dtype=np.int64)),
                    "grid": np.broadcast_to(np.asarray(grid, dtype=np.int64), at.shape),
                    "team": np.broadcast_to(np.asarray(team, dtype=np.int64), at.shape),
                }
            )
            for role, village, grid, team in parts
        ],
        ignore_index=True,
    )
    frame["compound"] = -1
    frame.loc[frame["role"] == "yard_head", "compound"] = np.arange(n_compounds)
    frame["building"] = -1
    frame.loc[frame["role"] == "building_head", "building"] = headed
    frame["source_id"] = serial_ids("sample:staff/", len(frame))
    frame["name"] = chinese_names(rng, len(frame))
    frame["phone"] = synthetic_phones(rng, len(frame))
    return frame


def responsible(staff: pd.DataFrame, role: str) -> np.ndarray:
    """The positions of the staff of `role`, in plan order."""
    return np.flatnonzero(staff["role"].to_numpy() == role)


def plan_shift_staff(
    shifts: pd.DataFrame, staff: pd.DataFrame, checkpoints: pd.DataFrame
) -> pd.DataFrame:
    """The people on every shift: a checkpoint's staff are 3 crews of staff per shift people,
    crew k keeping shift k of each day (8 h in any 24); a short shift leaves its last out."""
    first = np.r_[0, np.cumsum(3 * checkpoints["staff_per_shift"].to_numpy())[:-1]]
    first += int(responsible(staff, "checkpoint_staff")[0])
    per_shift = checkpoints["staff_per_shift"].to_numpy()
    cp = shifts["checkpoint"].to_numpy()
    crew = shifts["starts_at"].dt.hour.to_numpy() // 8
    count = shifts["staff_count"].to_numpy()
    shift = np.repeat(np.arange(len(shifts)), count)
    seat = np.arange(shift.size) - np.repeat(np.cumsum(count) - count, count)
    person = first[cp[shift]] + crew[shift] * per_shift[cp[shift]] + seat
    return pd.DataFrame({"shift": shift, "staff": person})
