"""The inputs of an assignment, checked: distances, beds, reserve beds and households."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def distances(distance_m: ArrayLike) -> Floats:
    """People × sites in metres, a copy; NaN becomes inf (the site cannot be reached)."""
    dist = np.array(distance_m, dtype=np.float64)
    if dist.ndim != 2:
        raise ValueError("distance_m must be a 2-d array: people × sites")
    dist[np.isnan(dist)] = np.inf
    if np.any(dist < 0):
        raise ValueError("distance_m must not be negative")
    return dist


def bed_counts(values: ArrayLike, n_sites: int, name: str) -> Ints:
    """One whole, non-negative number per site."""
    array = np.asarray(values)
    if array.shape != (n_sites,):
        raise ValueError(f"{name} must have one value per site ({n_sites})")
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be numbers")
    floats = array.astype(np.float64)
    if not np.all(np.isfinite(floats)) or np.any(floats != np.round(floats)):
        raise ValueError(f"{name} must be whole numbers")
    if np.any(floats < 0):
        raise ValueError(f"{name} must not be negative")
    return floats.astype(np.int64)


def usable_beds(free: Ints, reserve_beds: ArrayLike | None, use_reserve: bool) -> tuple[Ints, Ints]:
    """The beds that may be taken per site, and the ordinary (not reserve) free beds."""
    if reserve_beds is None:
        return free, free
    reserve = bed_counts(reserve_beds, len(free), "reserve_beds")
    if np.any(reserve > free):
        raise ValueError("reserve_beds must not exceed free_beds at any site")
    ordinary = free - reserve
    return (free if use_reserve else ordinary), ordinary


def units_of(household: ArrayLike | None, n_people: int) -> Ints:
    """A unit number per person (0, 1, ...), households numbered in order of their first
    member; each person a unit of their own when `household` is None."""
    if household is None:
        return np.arange(n_people, dtype=np.int64)
    ids = np.asarray(household)
    if ids.shape != (n_people,):
        raise ValueError(f"household must have one id per person ({n_people})")
    if ids.dtype.kind not in "iufUSO":
        raise ValueError("household ids must be numbers or strings")
    if ids.dtype.kind == "f" and not np.all(np.isfinite(ids)):
        raise ValueError("household ids must be finite")
    try:
        _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    except TypeError as exc:
        raise ValueError("household ids must be comparable (all numbers or all strings)") from exc
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    units: Ints = rank[inverse.reshape(-1)]
    return units
