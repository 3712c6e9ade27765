"""What the import tests share: a village near Vaduz, features placed in it, and how an
import is run and its refusal checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner
from shapely import box
from sqlalchemy import Connection

from geodata.cli import main
from geodata.db.stats import table_counts
from geodata.imports.load import import_file
from geodata.imports.report import ImportReport, Layer, ReadOptions
from tests import conftest
from tests.shared_data import OSM_GPKG

OSM = OSM_GPKG
TOWN = box(9.50, 47.10, 9.56, 47.16)
"""A village near Vaduz: features are placed inside it."""


def square(x: float, y: float, d: float = 0.0002) -> list[list[float]]:
    """An outer ring wound counter-clockwise (RFC 7946)."""
    return [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def feature(geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def write_geojson(tmp_path: Path, features: list[dict[str, Any]], name: str = "in") -> Path:
    path = tmp_path / f"{name}.geojson"
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    return path


def write_text(tmp_path: Path, body: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def run(
    conn: Connection,
    layer: Layer,
    path: Path,
    *,
    repair: bool = False,
    dry_run: bool = False,
    **options: Any,
) -> ImportReport:
    return import_file(
        conn,
        layer,
        path,
        ReadOptions(**options),
        repair=repair,
        dry_run=dry_run,
        actor="test",
    )


def good_buildings(n: int = 3, *, x: float = 9.52, y: float = 47.12) -> list[dict[str, Any]]:
    return [
        feature(polygon(square(x + i * 0.001, y)), source_id=f"b{i}", floors=2, name=f"B{i}")
        for i in range(n)
    ]


def assert_refused(
    conn: Connection, report: ImportReport, before: dict[str, int], *needles: str
) -> None:
    assert report.errors, report
    reasons = " | ".join(e.reason for e in report.errors)
    for needle in needles:
        assert needle in reasons, reasons
    assert report.inserted == report.updated == report.unchanged == 0
    assert table_counts(conn) == before


# --- geometry -------------------------------------------------------------------------------


BOWTIE = polygon([[9.52, 47.12], [9.521, 47.121], [9.521, 47.12], [9.52, 47.121], [9.52, 47.12]])


def run_cli(db: conftest.TestDatabase, *args: str) -> tuple[int, str]:
    """`wangge ARGS` on the database `db`: the exit code and what it printed."""
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
    }
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout
