"""Who keeps the sample town: checkpoints and shifts, patrol zones, isolation (the people and
units: `geodata.samples.town.people`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.analysis.patrol_duty import DutyClock
from geodata.samples.osm_extract import WGS84
from geodata.samples.town.geometry import polygonal, to_wgs84
from geodata.samples.town.plan import serial_ids
from geodata.town_time import TOWN_TIMEZONE

SHIFT_DAYS = 7
ISOLATION_BEDS = 120
ISOLATION_RESERVE_ROOMS = 10
ISOLATION_BEDS_USED = 86
"""Beds of the isolation site taken: close contacts and returnees from high-risk areas sent
to central quarantine rather than home (about seven in ten beds, a fixed figure)."""


def plan_checkpoints(
    rng: np.random.Generator,
    villages: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """A checkpoint at every village entrance in state ``checkpoint``."""
    at = np.flatnonzero(entrances["state"].to_numpy() == "checkpoint")
    village = entrances["village"].to_numpy()[at]
    road = entrances["road"].to_numpy()[at]
    number = pd.Series(village).groupby(village).cumcount().to_numpy() + 1
    primary = roads["highway"].to_numpy()[road] == "primary"
    names = [
        f"{v}卡点{n}（{r}）"
        for v, n, r in zip(
            villages["name"].to_numpy()[village],
            number,
            roads["label"].to_numpy()[road],
            strict=True,
        )
    ]
    return gpd.GeoDataFrame(
        {
            "source_id": serial_ids("sample:checkpoint/", at.size),
            "name": names,
            "kind": np.where(primary & (rng.random(at.size) < 0.5), "road", "village_gate"),
            "state": "active",
            "staff_per_shift": rng.choice(np.array([2, 3]), size=at.size),
            "radius_m": rng.integers(10, 31, size=at.size) * 50.0,
            "village": village,
            "entrance": at,
        },
        geometry=entrances.geometry.to_numpy()[at],
        crs=WGS84,
    )


def plan_shifts(
    rng: np.random.Generator, checkpoints: pd.DataFrame, *, today: date
) -> pd.DataFrame:
    """Three 8-hour shifts a day at every checkpoint, today and the 6 days before."""
    first = datetime.combine(today - timedelta(days=SHIFT_DAYS - 1), time(0), tzinfo=TOWN_TIMEZONE)
    starts = pd.date_range(first, periods=3 * SHIFT_DAYS, freq="8h")
    n = len(checkpoints)
    wanted = np.repeat(checkpoints["staff_per_shift"].to_numpy(), starts.size)
    short = rng.random(wanted.size) < 0.125
    starts_at = starts.take(np.tile(np.arange(starts.size), n))
    return pd.DataFrame(
        {
            "source_id": serial_ids("sample:shift/", n * starts.size),
            "checkpoint": np.repeat(np.arange(n), starts.size),
            "starts_at": starts_at,
            "ends_at": starts_at + pd.Timedelta(hours=8),
            "staff_count": np.where(short, wanted - 1, wanted),
        }
    )


def plan_patrol_shifts(
    zones: gpd.GeoDataFrame, staff: pd.DataFrame, *, today: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A shift on every patrol zone each duty day, today and the 6 days before, over the
    zone's period (06:00-18:00 by day, 18:00-06:00 by night, the town settings' defaults),
    with its team on A/B duty: the first half of the team's patrols one day, the other half
    the next. Returns the shifts (`zone` a position in `zones`) and the people on them."""
    clock = DutyClock(time(6), time(18), TOWN_TIMEZONE)
    first = today - timedelta(days=SHIFT_DAYS - 1)
    patrols = staff.index[staff["role"].to_numpy() == "patrol"].to_numpy()
    team_of_patrol = staff["team"].to_numpy()[patrols]
    rows: list[dict[str, object]] = []
    people: list[tuple[int, int]] = []
    for z, (team, period) in enumerate(zip(zones["team"], zones["period"], strict=True)):
        members = patrols[team_of_patrol == team]
        half = (len(members) + 1) // 2
        groups = (members[:half], members[half:]) if len(members) > 1 else (members, members)
        for d, (start, end) in enumerate(clock.windows(first, SHIFT_DAYS, str(period))):
            on = groups[d % 2]
            people.extend((len(rows), int(p)) for p in on)
            rows.append({"zone": z, "starts_at": start, "ends_at": end, "staff_count": len(on)})
    shifts = pd.DataFrame(rows)
    for column in ("starts_at", "ends_at"):
        shifts[column] = pd.to_datetime(shifts[column], utc=True).dt.tz_convert(TOWN_TIMEZONE)
    shifts["source_id"] = serial_ids("sample:patrol_shift/", len(shifts))
    on_shift = pd.DataFrame(people, columns=["shift", "staff"])
    return shifts, on_shift


def plan_patrol_zones(
    villages: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, teams: pd.DataFrame
) -> gpd.GeoDataFrame:
    """Per village the day zone (the whole village) and the night zone (within 100 m of a
    building)."""
    halo = shapely.buffer(buildings["geom_m"].to_numpy(), 100.0, quad_segs=4)
    village = buildings["village"].to_numpy()
    settled_m = [shapely.union_all(halo[village == v]) for v in range(len(villages))]
    settled = polygonal(shapely.intersection(to_wgs84(settled_m), villages.geometry.to_numpy()))
    n = len(villages)
    names = villages["name"].to_numpy(dtype=str)
    day_team = np.flatnonzero(teams["source_id"].str.endswith("-day").to_numpy())
    night_team = np.flatnonzero(teams["source_id"].str.endswith("-night").to_numpy())
    return gpd.GeoDataFrame(
        {
            "source_id": [
                f"sample:patrol_zone/{c}-{p}" for p in ("day", "night") for c in villages["code"]
            ],
            "name": [*np.char.add(names, "日间巡逻区"), *np.char.add(names, "夜间巡逻区")],
            "period": np.repeat(["day", "night"], n),
            "team": np.r_[day_team, night_team],
            "village": np.r_[np.arange(n), np.arange(n)],
        },
        geometry=np.r_[polygonal(villages.geometry.to_numpy()), settled],
        crs=WGS84,
    )


def plan_isolation_site(
    buildings: gpd.GeoDataFrame, villages: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """One concentrated isolation site at the centroid of the largest school, its beds
    partly taken (ISOLATION_BEDS_USED)."""
    schools = buildings[
        buildings["amenity"].isin(["school", "college", "university"])
        | (buildings["use"] == "school")
    ]
    site = schools.loc[schools["area_m2"].idxmax()]
    label = (
        site["name"] if isinstance(site["name"], str) else villages["name"].iloc[site["village"]]
    )
    return gpd.GeoDataFrame(
        {
            "source_id": ["sample:isolation_site/1"],
            "name": [f"集中隔离点（{label}）"],
            "beds": [ISOLATION_BEDS],
            "beds_used": [ISOLATION_BEDS_USED],
            "reserve_rooms": [ISOLATION_RESERVE_ROOMS],
        },
        geometry=[shapely.centroid(site.geometry)],
        crs=WGS84,
    )
