"""Fixtures of the import tests: a village with its grid, and three buildings in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection

from geodata.imports.report import Layer
from tests import factories
from tests.geodata.imports.support import (
    TOWN,
    good_buildings,
    run,
    write_geojson,
)


@pytest.fixture
def town(conn: Connection) -> int:
    """One village with one grid covering it."""
    village = factories.village(conn, "V1", TOWN)
    factories.grid(conn, village, "G1", TOWN)
    return village


@pytest.fixture
def buildings(conn: Connection, tmp_path: Path, town: int) -> None:
    report = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, good_buildings(3), "buildings"))
    assert report.ok, report
    assert report.inserted == 3
