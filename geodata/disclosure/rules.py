"""The fixed rules of publication, and which principals every free parameter is fixed for."""

from __future__ import annotations

from datetime import date, datetime

from geodata.auth.access import Action, Principal
from geodata.errors import ConfigError
from geodata.town_time import TOWN_TIMEZONE

SUPPRESS_BELOW = 5
"""A count under this is never published; nor is a difference of two published results."""
ROUNDING_BASE = 5
"""Published counts are multiples of this (random rounding keyed per cell, day and figure)."""
FINEST_HEX_RESOLUTION = 9
"""The finest H3 resolution for roles without household access: about 0.1 km² a cell."""
RADIUS_STEPS_M = (100.0, 200.0, 300.0, 500.0, 1000.0, 2000.0, 5000.0)
"""The checkpoint reach radii such roles may ask for; any other is rounded to the nearest."""


class DisclosureError(ConfigError):
    """A request that would publish figures finer than the rules allow."""

    exit_code = 1


def controlled(principal: Principal) -> bool:
    """Whether the principal may not see households: every free parameter is fixed for them."""
    return not principal.can(Action.VIEW_HOUSEHOLDS)


def town_today(now: datetime | None = None) -> date:
    """The town's current day (the only day not yet closed)."""
    return (now or datetime.now(TOWN_TIMEZONE)).astimezone(TOWN_TIMEZONE).date()


def is_closed(day: date, *, today: date | None = None) -> bool:
    """A day is closed once the town's clock has passed its end."""
    return day < (today or town_today())


def check_hex_resolution(principal: Principal, resolution: int) -> None:
    """Refuse a hexagon grid finer than the principal may see (or no H3 resolution at all)."""
    if not 0 <= resolution <= 15:
        raise DisclosureError("hex_resolution: an H3 resolution from 0 to 15")
    if controlled(principal) and resolution > FINEST_HEX_RESOLUTION:
        raise DisclosureError(
            f"hex_resolution: at most {FINEST_HEX_RESOLUTION} for a role without household "
            f"access (asked {resolution})"
        )


def round_radius_m(radius_m: float) -> float:
    """The step of RADIUS_STEPS_M nearest to `radius_m` (the lower one on a tie)."""
    return min(RADIUS_STEPS_M, key=lambda step: (abs(step - radius_m), step))
