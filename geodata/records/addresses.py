"""Addresses people use for households: village, compound, building name, unit and room;
never a source id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

_ADDRESSES = text(
    "SELECT h.id, v.name AS village, c.name AS compound, b.name AS building, h.unit, h.room"
    " FROM households h LEFT JOIN buildings b ON b.id = h.building_id"
    " LEFT JOIN compounds c ON c.id = b.compound_id"
    " LEFT JOIN grids g ON g.id = h.grid_id LEFT JOIN villages v ON v.id = g.village_id"
    " WHERE h.id = ANY(:ids)"
)


def addresses(conn: Connection, household_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each household's village, compound, building (names; None when unknown), unit, room."""
    rows = conn.execute(_ADDRESSES, {"ids": list(household_ids)}).mappings()
    return {
        int(r["id"]): {k: r[k] for k in ("village", "compound", "building", "unit", "room")}
        for r in rows
    }
