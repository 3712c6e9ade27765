"""The sample town's coverage report at a moment inside its visits and shifts, computed
once for the analysis tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from geodata.analysis.coverage import coverage_report
from geodata.records.coverage_inputs import fetch_inputs
from tests import conftest


@pytest.fixture(scope="package")
def moment(sample_db: conftest.TestDatabase) -> datetime:
    """A moment inside the sample's visits and shifts: everything has something to count."""
    with sample_db.owner.connect() as conn:
        last_visit = conn.execute(text("SELECT max(visited_at) FROM visits")).scalar_one()
    moment: datetime = last_visit - timedelta(hours=30)
    return moment


@pytest.fixture(scope="package")
def report(sample_db: conftest.TestDatabase, moment: datetime) -> dict[str, Any]:
    with sample_db.owner.connect() as conn:
        inputs = fetch_inputs(conn, as_of=moment)
    return coverage_report(inputs, with_items=True)
