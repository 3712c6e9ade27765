"""The quarantine layers in the exports: aggregated per grid by default, pseudonymous rows
without resident source ids, and every aggregate count published through the disclosure
rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from geodata.exports.privacy import PrivacyLevel
from geodata.exports.run import ExportRequest, Format
from tests.conftest import TestDatabase
from tests.geodata.exports.support import ANALYST, export, geojson_features

LAYERS = (
    "quarantines",
    "quarantine-changes",
    "quarantine-checks",
    "fever-alerts",
    "bed-assignments",
)


@pytest.mark.parametrize("layer", LAYERS)
def test_the_default_export_is_aggregate(town: TestDatabase, tmp_path: Path, layer: str) -> None:
    path, result = export(town, tmp_path, ExportRequest(layer, Format.GEOJSON), ANALYST)
    assert result.privacy == "aggregate"
    with town.owner.connect() as conn:
        assert result.rows == conn.execute(text("SELECT count(*) FROM grids")).scalar()
    for feature in geojson_features(path):
        for name, value in feature["properties"].items():
            if isinstance(value, int) and name != "grid":
                assert value % 5 == 0, (name, value)  # suppressed (None) or rounded


def test_pseudonymous_quarantines_name_nobody(town: TestDatabase, tmp_path: Path) -> None:
    request = ExportRequest("quarantines", Format.GEOJSON, PrivacyLevel.PSEUDONYMOUS)
    path, result = export(town, tmp_path, request, ANALYST)
    with town.owner.connect() as conn:
        sources = (
            conn.execute(
                text(
                    "SELECT r.source_id FROM quarantines q JOIN residents r ON r.id = q.resident_id"
                )
            )
            .scalars()
            .all()
        )
    assert result.rows == len(sources) > 0
    raw = path.read_bytes()
    assert not any(s.encode() in raw for s in sources)
    props = geojson_features(path)[0]["properties"]
    assert "status" not in props
    assert "resident_source_id" not in props


@pytest.mark.parametrize(("layer", "table"), [("isolation-beds", "isolation_beds"),
                                              ("campaigns", "campaigns")])  # fmt: skip
def test_places_are_exported_whole(
    town: TestDatabase, tmp_path: Path, layer: str, table: str
) -> None:
    path, result = export(town, tmp_path, ExportRequest(layer, Format.GEOJSON), ANALYST)
    with town.owner.connect() as conn:
        rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 (table names of this test)
    assert result.rows == rows > 0
    assert len(geojson_features(path)) == rows
