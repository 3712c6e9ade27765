"""Estimated patrol hours: metres walked at a walking speed plus a stop at each post passed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]

DEFAULT_SPEED_KMH = 4.0
DEFAULT_STOP_MIN = 2.0


@dataclass(frozen=True)
class Pace:
    """Walking speed (km/h) and minutes stopped at each checkpoint or open entrance."""

    speed_kmh: float = DEFAULT_SPEED_KMH
    stop_min: float = DEFAULT_STOP_MIN

    def __post_init__(self) -> None:
        if not (np.isfinite(self.speed_kmh) and 0.5 <= self.speed_kmh <= 50):
            raise ValueError("walking speed: between 0.5 and 50 km/h")
        if not (np.isfinite(self.stop_min) and 0 <= self.stop_min <= 120):
            raise ValueError("stop time: between 0 and 120 minutes")

    def hours(self, metres: float | Floats, stops: float | Floats = 0.0) -> Floats:
        """Hours to walk `metres` and stop `stops` times."""
        walked = np.asarray(metres, dtype=float) / (self.speed_kmh * 1000.0)
        return np.asarray(walked + np.asarray(stops, dtype=float) * self.stop_min / 60.0)
