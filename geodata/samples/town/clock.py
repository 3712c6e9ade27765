"""The sample town's wall clock: times in Asia/Shanghai."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.town_time import TOWN_TIMEZONE


def local_times(
    days: npt.NDArray[np.datetime64], minutes: npt.NDArray[np.int64]
) -> pd.DatetimeIndex:
    """Each day at its minute after midnight, on the town's clock."""
    midnight = pd.DatetimeIndex(days.astype("datetime64[ns]"))
    return (midnight + pd.to_timedelta(minutes, unit="min")).tz_localize(TOWN_TIMEZONE)
