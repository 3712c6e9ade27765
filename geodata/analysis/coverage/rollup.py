"""Figures counted per grid, summed up to villages and the town, within a scope of grids."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]
Level = Literal["town", "village", "grid"]
LEVELS: tuple[Level, ...] = ("town", "village", "grid")


def count_by_grid(
    grid_pos: Ints, n_grids: int, mask: Bools | None = None, *, weights: Ints | None = None
) -> Ints:
    """How many items (optionally only those where `mask`) fall in each grid; -1 is none.
    With `weights`, each item counts for its weight (a row standing for that many)."""
    pos = np.asarray(grid_pos, dtype=np.int64)
    w = None if weights is None else np.asarray(weights, dtype=np.int64)
    if mask is not None:
        keep = np.asarray(mask, dtype=bool)
        pos = pos[keep]
        w = None if w is None else w[keep]
    placed = pos >= 0
    if w is None:
        return np.bincount(pos[placed], minlength=n_grids).astype(np.int64)
    return np.rint(np.bincount(pos[placed], weights=w[placed], minlength=n_grids)).astype(np.int64)


def roll_up(
    per_grid: dict[str, Ints],
    grids: pd.DataFrame,
    villages: pd.DataFrame,
    in_scope: Bools,
    *,
    level: Level = "grid",
) -> dict[str, Any]:
    """`town`, `villages` and `grids` entries; each sums the grids in scope below it.

    `grids` has code, name, village_id in the order of the per-grid arrays; `villages`
    has id, code, name. Villages with no grid in scope are left out; so are the village
    and grid lists below `level`.
    """
    names = list(per_grid)
    table = (
        np.column_stack([np.asarray(per_grid[k], dtype=np.int64) for k in names])
        if names
        else np.zeros((len(grids), 0), np.int64)
    )
    scope = np.asarray(in_scope, dtype=bool)
    town = dict(zip(names, (int(v) for v in table[scope].sum(axis=0)), strict=True))
    result: dict[str, Any] = {"town": town, "villages": [], "grids": []}
    if level == "town":
        return result
    village_ids = villages["id"].tolist()
    village_pos = pd.Index(village_ids).get_indexer(pd.Index(grids["village_id"]))
    village_codes, village_names = villages["code"].tolist(), villages["name"].tolist()
    known = scope & (village_pos >= 0)
    sums = np.zeros((len(village_ids), len(names)), dtype=np.int64)
    np.add.at(sums, village_pos[known], table[known])
    present = np.bincount(village_pos[known], minlength=len(village_ids)) > 0
    for v in sorted(np.flatnonzero(present).tolist(), key=lambda v: str(village_codes[v])):
        entry: dict[str, Any] = {"code": village_codes[v], "name": village_names[v]}
        entry.update(zip(names, sums[v].tolist(), strict=True))
        result["villages"].append(entry)
    if level == "village":
        return result
    codes, grid_names = grids["code"].tolist(), grids["name"].tolist()
    rows = table.tolist()
    for i in sorted(np.flatnonzero(scope).tolist(), key=lambda i: str(codes[i])):
        v = int(village_pos[i])
        grid: dict[str, Any] = {
            "code": codes[i],
            "name": grid_names[i],
            "village": village_codes[v] if v >= 0 else None,
        }
        grid.update(zip(names, rows[i], strict=True))
        result["grids"].append(grid)
    return result
