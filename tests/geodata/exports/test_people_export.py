"""Exports of the people layers: the full form imports back unchanged; names and phones only
by right; aggregates count people per grid or village."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from geodata.auth.access import Principal, local_operator
from geodata.cli import main
from geodata.exports.privacy import AggregateLevel, PrivacyLevel
from geodata.exports.run import ExportRequest, ExportResult, Format, export_to_file
from geodata.imports.load import import_file
from geodata.imports.report import Layer, ReadOptions
from geodata.vocab import Role
from tests.conftest import TestDatabase

KEY = b"k" * 40
ADMIN = local_operator("tester")
ANALYST = Principal(name="analyst-1", role=Role.ANALYST)
PEOPLE = (Layer.TEAMS, Layer.STAFF, Layer.SHIFTS, Layer.SHIFT_STAFF)


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    """The sample town in the module's own database: exports commit their audit events."""
    return throwaway_sample_db


def export(
    db: TestDatabase, path: Path, request: ExportRequest, who: Principal = ADMIN
) -> ExportResult:
    with db.app.begin() as conn:
        return export_to_file(conn, who, request, path, pseudonym_key=lambda: KEY)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("fmt", [Format.CSV, Format.GEOJSON])
def test_the_full_export_imports_back_all_unchanged(
    town: TestDatabase, tmp_path: Path, fmt: Format
) -> None:
    files = {}
    for layer in PEOPLE:
        path = tmp_path / f"{layer.value}.{fmt.value}"
        result = export(town, path, ExportRequest(layer.value, fmt, PrivacyLevel.FULL))
        assert result.rows > 0, layer
        files[layer] = (path, result.rows)
    with town.owner.connect() as conn, conn.begin() as outer:
        for layer, (path, rows) in files.items():
            report = import_file(
                conn, layer, path, ReadOptions(), repair=False, dry_run=False, actor="test"
            )
            assert not report.errors, (layer, report.errors[:3])
            assert (report.inserted, report.updated, report.unchanged) == (0, 0, rows), layer
        outer.rollback()


def test_pseudonymous_staff_drop_names_phones_and_source_ids(
    town: TestDatabase, tmp_path: Path
) -> None:
    request = ExportRequest("staff", Format.CSV, PrivacyLevel.PSEUDONYMOUS)
    path = tmp_path / "staff.csv"
    export(town, path, request, ANALYST)
    rows = read_csv(path)
    assert rows
    assert {"name", "phone", "source_id"}.isdisjoint(rows[0])
    assert {"role", "village_code", "grid_code"} <= set(rows[0])
    with town.owner.connect() as conn:
        from sqlalchemy import text

        ids = {str(i) for i in conn.execute(text("SELECT id FROM staff")).scalars()}
    assert not ids & {r["id"] for r in rows}
    people = tmp_path / "shift-staff.csv"
    export(town, people, ExportRequest("shift-staff", Format.CSV, PrivacyLevel.PSEUDONYMOUS))
    on_shift = read_csv(people)
    assert "staff_source_id" not in on_shift[0]
    assert len(on_shift[0]["staff_id"]) > 12  # a keyed pseudonym, not the id


def test_staff_are_counted_per_village_by_default(town: TestDatabase, tmp_path: Path) -> None:
    path = tmp_path / "staff-by-village.csv"
    request = ExportRequest("staff", Format.CSV, level=AggregateLevel.VILLAGE)
    result = export(town, path, request, ANALYST)
    assert result.privacy == PrivacyLevel.AGGREGATE
    rows = read_csv(path)
    assert len(rows) == 11
    assert {"staff", "responsible", "grid_workers", "checkpoint_staff"} <= set(rows[0])
    assert "name" not in rows[0]


def _cli(db: TestDatabase, *args: str) -> tuple[int, str]:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
        "WANGGE_EXPORT_KEY": "k" * 40,
    }
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout


def test_the_cli_exports_and_imports_back_all_unchanged(town: TestDatabase, tmp_path: Path) -> None:
    for layer in PEOPLE:
        path = tmp_path / f"{layer.value}.csv"
        code, out = _cli(town, "export", layer.value, "--privacy", "full", "-o", str(path))
        assert code == 0, out
        code, out = _cli(town, "import", layer.value, str(path), "--format", "json")
        assert code == 0, out
        report = orjson.loads(out)
        assert report["inserted"] == report["updated"] == 0, report
        assert report["unchanged"] == len(read_csv(path)) > 0
    bad = tmp_path / "bad.csv"
    bad.write_text("shift_source_id,staff_source_id\nsample:shift/1,nobody\n", encoding="utf-8")
    code, out = _cli(town, "import", "shift-staff", str(bad))
    assert code == 1
    assert "no staff has source id 'nobody'" in out
