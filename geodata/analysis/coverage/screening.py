"""Door-to-door screening ("no household missed"): recent visits, never visited, registry gaps."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

SCREENING_HOURS = 24
MAX_WINDOW_H = 60 * 24
"""The longest screening window asked for: the longest a town setting allows (60 days)."""


def screened_within(
    last_visit_s: Floats, as_of_s: float, *, hours: float = SCREENING_HOURS
) -> Bools:
    """Households whose latest visit lies in the `hours` up to `as_of_s` (inclusive)."""
    last = np.asarray(last_visit_s, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.asarray((last > as_of_s - hours * 3600.0) & (last <= as_of_s))


def never_visited(last_visit_s: Floats) -> Bools:
    """Households with no visit at all up to the moment the visits were read for."""
    return np.asarray(np.isnan(np.asarray(last_visit_s, dtype=float)))


def buildings_without_households(
    building_ids: Ints,
    building_grid_ids: Ints,
    household_building_ids: Ints,
    household_grid_ids: Ints,
) -> Bools:
    """Buildings of a residential grid (one with any household) that no household is in."""
    residential = np.isin(building_grid_ids, household_grid_ids)
    housed = np.isin(building_ids, household_building_ids)
    return np.asarray(residential & ~housed)
