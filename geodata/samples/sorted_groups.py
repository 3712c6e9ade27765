"""Rows sorted by the group they belong to: the first row of each group, each row's place in it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def first_per_group(keys: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True at the first row of each run of equal keys (keys sorted)."""
    k = np.asarray(keys)
    return np.r_[True, k[1:] != k[:-1]] if k.size else np.zeros(0, dtype=bool)


def position_in_group(sizes: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """0, 1, ... within each group, for the rows of groups of the given sizes, group by group."""
    n = np.asarray(sizes, dtype=np.int64)
    return np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
