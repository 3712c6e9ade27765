"""Households of the sample town's buildings: how many a building holds, and their flats."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.samples.sorted_groups import position_in_group
from geodata.samples.town.geometry import Ints
from geodata.samples.town.plan import serial_ids

FLAT_M2 = 90.0


def households_per_building(
    rng: np.random.Generator,
    area_m2: npt.ArrayLike,
    floors: npt.ArrayLike,
    residential: npt.ArrayLike,
    *,
    single_family: npt.ArrayLike = False,
) -> Ints:
    """round(area × floors ÷ 90 m² × U(0.85, 1.15)), at least 1, at most 2 for a house."""
    area = np.asarray(area_m2, dtype=float)
    jitter = rng.uniform(0.85, 1.15, size=area.size)
    count = np.maximum(1, np.rint(area * np.asarray(floors) / FLAT_M2 * jitter)).astype(np.int64)
    count = np.where(np.asarray(single_family, dtype=bool), np.minimum(count, 2), count)
    return np.where(np.asarray(residential, dtype=bool), count, 0).astype(np.int64)


def household_rows(rng: np.random.Generator, buildings: pd.DataFrame) -> pd.DataFrame:
    """One row per household of every building (``households`` per building), with members.

    Flats are numbered floor by floor, two a floor per stairwell (unit): rooms 101, 102...
    """
    count = buildings["households"].to_numpy(dtype=np.int64)
    building = np.repeat(np.arange(len(count)), count)
    position = position_in_group(count)
    floors = buildings["floors"].to_numpy(dtype=np.int64)
    per_floor = np.ceil(count / np.maximum(floors, 1)).astype(np.int64)[building]
    storey = position // per_floor + 1
    flat = position % per_floor
    members = rng.choice(np.arange(1, 7), size=building.size, p=[0.22, 0.3, 0.22, 0.15, 0.08, 0.03])
    return pd.DataFrame(
        {
            "source_id": serial_ids("sample:household/", building.size),
            "building": building,
            "grid": buildings["grid"].to_numpy()[building],
            "unit": (flat // 2 + 1).astype(str),
            "room": (storey * 100 + flat % 2 + 1).astype(str),
            "members": members,
        }
    )
