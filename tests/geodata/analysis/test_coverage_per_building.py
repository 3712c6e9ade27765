"""Households counted per building and grid (what a report without items reads) give every
figure of the report read household by household: as of a moment inside the visits and now,
for two screening windows, for the town and for a scope of grids, with and without roads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, text

from geodata.analysis.coverage import coverage_report
from geodata.records.coverage_inputs import fetch_inputs


def _report(conn: Connection, *, per_building: bool, **kw: Any) -> dict[str, Any]:
    as_of, grid_ids, hours = kw["as_of"], kw.get("grid_ids"), kw["hours"]
    inputs = fetch_inputs(
        conn, as_of=as_of, grid_ids=grid_ids, per_building=per_building, screening_hours=hours
    )
    return coverage_report(inputs, level="grid", screening_hours=hours, network=kw["network"])


@pytest.mark.parametrize("hours", [24.0, 7 * 24.0])
def test_per_building_counts_give_the_same_report(
    sample_conn: Connection, moment: datetime, hours: float
) -> None:
    grids = frozenset(
        int(g) for (g,) in sample_conn.execute(text("SELECT id FROM grids ORDER BY id LIMIT 3"))
    )
    for as_of in (moment, datetime.now(UTC)):
        for grid_ids in (None, grids):
            for network in (False, True):
                kw = {"as_of": as_of, "grid_ids": grid_ids, "hours": hours, "network": network}
                one_by_one = _report(sample_conn, per_building=False, **kw)
                per_building = _report(sample_conn, per_building=True, **kw)
                assert per_building == one_by_one, kw
                town = one_by_one["town"]
                assert town["households"] > 0
                if as_of == moment:  # inside the visits: some seen, some not
                    assert 0 < town["screened"] < town["households"]


def test_households_counted_per_building_are_never_listed(sample_conn: Connection) -> None:
    inputs = fetch_inputs(sample_conn, per_building=True)
    with pytest.raises(ValueError, match="listed"):
        coverage_report(inputs, with_items=True)
