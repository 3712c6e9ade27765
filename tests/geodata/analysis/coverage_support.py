"""What the coverage tests share: the item kinds, row reads and counting helpers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pyproj import Transformer
from sqlalchemy import Connection, text

from tests.shared_data import SUZHOU_BUILDINGS

SUZHOU = SUZHOU_BUILDINGS
ITEM_KINDS = {
    "unreached_households",
    "never_visited",
    "buildings_without_households",
    "compounds_breach",
    "compounds_no_open_entrance",
    "leaks",
    "checkpoints_understaffed",
}


def _rows(conn: Connection, query: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(query), params).all())


def _by_grid(report: dict[str, Any], key: str) -> dict[str, int]:
    return {g["code"]: g[key] for g in report["grids"] if g[key]}


def _counts(pairs: list[tuple[str, bool]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for grid, flag in pairs:
        if flag:
            out[grid] += 1
    return dict(out)


def _transformer(epsg: int) -> Transformer:
    return Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
