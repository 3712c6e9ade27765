"""Bed ids for the people an assignment places: the caller's order of beds at each site."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike

from geodata.analysis.isolation.inputs import units_of

Bed = TypeVar("Bed", bound=Hashable)


def hand_out_beds(
    site: ArrayLike, bed_ids: Sequence[Sequence[Bed]], household: ArrayLike | None = None
) -> list[Bed | None]:
    """A bed id per person (None when not placed).

    `site`: per person, a site index or -1 (an assignment's `site`); `bed_ids`: per site, its
    free bed ids in the order they are to be taken (ordinary beds before reserve ones, rooms
    together). Each site's people take them by household, a household's members on
    consecutive beds, households in order of their first member.
    """
    sites = np.asarray(site)
    if sites.ndim != 1 or sites.dtype.kind not in "iu":
        raise ValueError("site must be a 1-d array of site indices")
    if np.any(sites >= len(bed_ids)) or np.any(sites < -1):
        raise ValueError(f"site must hold -1 or a site index below {len(bed_ids)}")
    unit_of = units_of(household, len(sites))
    order = np.lexsort((np.arange(len(sites)), unit_of, sites))
    order = order[sites[order] >= 0]
    ordered_sites = sites[order]
    rank = np.arange(len(order)) - np.searchsorted(ordered_sites, ordered_sites, side="left")
    beds: list[Bed | None] = [None] * len(sites)
    for person, at, k in zip(order.tolist(), ordered_sites.tolist(), rank.tolist(), strict=True):
        ids = bed_ids[at]
        if k >= len(ids):
            raise ValueError(f"bed_ids of site {at}: {len(ids)} ids for more people")
        beds[person] = ids[k]
    return beds
