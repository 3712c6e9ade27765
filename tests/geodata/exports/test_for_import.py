"""`wangge export LAYER --for-import`: every import layer of the sample town, exported for
import, imports back into the same town all unchanged, and loads an empty town (in
`import_order`) with the same rows, links and geometries."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, text

from geodata.auth.access import Principal, local_operator
from geodata.cli import main
from geodata.exports.privacy import PrivacyLevel
from geodata.exports.run import ExportRequest, Format, export_to_file
from geodata.imports.layers import LAYERS, LayerSpec
from geodata.imports.load import import_file
from geodata.imports.report import ImportReport, Layer, ReadOptions
from geodata.services.export_for_import import (
    export_for_import,
    field_names,
    import_order,
    links_ahead,
)
from geodata.vocab import Role
from tests.conftest import TestDatabase, make_account

ADMIN = local_operator("tester")
FORMATS = (Format.GPKG, Format.GEOJSON, Format.CSV)


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    """The sample town in the module's own database: exports commit their audit events."""
    return throwaway_sample_db


def export_all(db: TestDatabase, folder: Path, fmt: Format) -> dict[Layer, tuple[Path, int]]:
    """Every import layer with rows, exported for import: (file, rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for layer in LAYERS:
        path = folder / f"{layer.value}.{fmt.value}"
        with db.app.begin() as conn:
            result = export_for_import(conn, ADMIN, layer.value, fmt, path)
        if result.rows:
            files[layer] = (path, result.rows)
    return files


def run_import(conn: Connection, layer: Layer, path: Path) -> ImportReport:
    report = import_file(conn, layer, path, ReadOptions(), repair=False, dry_run=False, actor="t")
    assert not report.errors, (layer, path.name, report.errors[:3])
    return report


@pytest.fixture(scope="module")
def exported(town: TestDatabase, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("for-import")
    return {fmt: export_all(town, folder / fmt.value, fmt) for fmt in FORMATS}


def test_every_layer_of_the_sample_town_is_exported_with_the_import_s_fields(
    exported: Any,
) -> None:
    for fmt in FORMATS:
        assert set(exported[fmt]) == set(LAYERS), fmt  # the sample has rows in every layer
    for layer, spec in LAYERS.items():
        names = list(field_names(spec))
        assert {f.name for f in spec.fields} <= set(names)
        assert ("source_id" in names) is not bool(spec.key), layer
        with exported[Format.CSV][layer][0].open(encoding="utf-8") as f:
            assert next(csv.reader(f)) == ["wkt", *names], layer
        frame = gpd.read_file(exported[Format.GPKG][layer][0])
        assert list(frame.columns) == [*names, "geometry"], layer
        first = orjson.loads(exported[Format.GEOJSON][layer][0].read_bytes())["features"][0]
        assert list(first) == ["type", "geometry", "properties"], layer
        assert list(first["properties"]) == names, layer


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_every_layer_imports_back_into_its_town_all_unchanged(
    town: TestDatabase, exported: Any, fmt: Format
) -> None:
    with town.owner.connect() as conn, conn.begin() as outer:
        for layer, (path, rows) in exported[fmt].items():
            report = run_import(conn, layer, path)
            assert (report.inserted, report.updated, report.unchanged) == (0, 0, rows), layer
            assert not report.warnings, (layer, report.warnings)  # no field it does not read
        outer.rollback()


def without(path: Path, names: tuple[str, ...], folder: Path) -> Path:
    """A copy of an exported file without the fields `names`."""
    copy = folder / path.name
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            records = list(csv.DictReader(f))
        with copy.open("w", encoding="utf-8", newline="") as f:
            kept = [k for k in records[0] if k not in names]
            writer = csv.DictWriter(f, kept, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(records)
    elif path.suffix == ".geojson":
        doc = orjson.loads(path.read_bytes())
        for feature in doc["features"]:
            for name in names:
                del feature["properties"][name]
        copy.write_bytes(orjson.dumps(doc))
    else:
        frame = gpd.read_file(path)
        frame.drop(columns=list(names)).to_file(copy, driver="GPKG", layer=path.stem)
    return copy


def load_from_empty(
    conn: Connection, files: dict[Layer, tuple[Path, int]], folder: Path
) -> Iterator[tuple[Layer, ImportReport]]:
    """Every file into an empty town in import order; the links to layers not loaded yet on
    a second pass."""
    order = import_order()
    ahead = links_ahead(order)
    for layer in order:
        path, _ = files[layer]
        first = without(path, ahead[layer], folder) if layer in ahead else path
        yield layer, run_import(conn, layer, first)
    for layer in ahead:
        yield layer, run_import(conn, layer, files[layer][0])


def test_the_sample_town_loads_an_empty_town_the_same(
    town: TestDatabase, own_db: TestDatabase, exported: Any, tmp_path: Path
) -> None:
    files = exported[Format.GPKG]
    ahead = links_ahead(import_order())
    with own_db.owner.begin() as conn:
        for layer, report in load_from_empty(conn, files, tmp_path):
            if report.inserted:
                assert report.inserted == files[layer][1], layer
            else:
                assert layer in ahead, layer  # the second pass: links only
    with town.owner.connect() as was, own_db.owner.connect() as now:
        for layer, spec in LAYERS.items():
            sql = stored_rows_sql(spec)
            before, after = was.execute(text(sql)).all(), now.execute(text(sql)).all()
            assert len(after) == len(before), layer
            assert after == before, layer


def stored_rows_sql(spec: LayerSpec) -> str:
    """Every row of a layer's table as the import reads it, ids taken for source ids (or codes)
    and polygons wound one way: the same in two towns loaded from the same files."""
    values = [] if spec.key else ["t.source_id"]
    for f in spec.fields:
        if f.link is None:
            values.append(f"t.{f.target}")
        else:
            values.append(f"(SELECT l.{f.link_key} FROM {f.link} l WHERE l.id = t.{f.target})")  # noqa: S608 (names of the import's own declarations)
    if spec.geometry is not None:
        values.append("ST_AsBinary(ST_ForcePolygonCCW(t.geom))")
    listed = ", ".join(values)
    return f"SELECT {listed} FROM {spec.table} t ORDER BY {listed}"  # noqa: S608 (names of the import's own declarations)


@pytest.mark.parametrize("role", [Role.ANALYST, Role.COMMANDER, Role.PLANNER])
def test_only_an_admin_exports_for_import(town: TestDatabase, tmp_path: Path, role: Role) -> None:
    from geodata.services.export_for_import import ForImportForbiddenError

    path = tmp_path / "residents.csv"
    with town.app.begin() as conn, pytest.raises(ForImportForbiddenError, match="only an admin"):
        export_for_import(conn, Principal(name="someone", role=role), "residents", Format.CSV, path)
    assert not path.exists()


def _cli(db: TestDatabase, *args: str) -> Result:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
        "WANGGE_USER": "",
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_the_command_exports_for_import_and_imports_back(
    town: TestDatabase, tmp_path: Path, fmt: Format
) -> None:
    path = tmp_path / f"grids.{fmt.value}"
    done = _cli(town, "export", "grids", "--for-import", "--format", fmt.value, "-o", str(path))
    assert done.exit_code == 0, done.output
    assert "(full, for import)" in done.stdout
    again = _cli(town, "import", "grids", str(path), "--format", "json")
    assert again.exit_code == 0, again.output
    report = orjson.loads(again.stdout)
    with town.owner.connect() as conn:
        grids = conn.execute(text("SELECT count(*) FROM grids")).scalar_one()
        assert (report["inserted"], report["updated"], report["unchanged"]) == (0, 0, grids)
        detail = conn.execute(
            text(
                "SELECT detail FROM audit_events WHERE action = 'export' "
                "AND object_type = 'grids' ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
    assert detail == {"format": fmt.value, "privacy": "full", "for_import": True}


def test_the_command_refuses_others_with_exit_1(town: TestDatabase, tmp_path: Path) -> None:
    make_account(town, "for-import-analyst", "analyst")
    path = tmp_path / "residents.csv"
    args = ("residents", "--for-import", "--format", "csv", "-o", str(path))
    refused = _cli(town, "--as", "for-import-analyst", "export", *args)
    assert refused.exit_code == 1
    assert "only an admin may export in full" in refused.stderr
    assert not path.exists()
    assert _cli(town, "export", *args, "--village", "x").exit_code == 2


def test_points_in_a_csv_with_lon_and_lat_import_back(town: TestDatabase, tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.csv"
    args = ("checkpoints", "--for-import", "--lonlat", "--format", "csv", "-o", str(path))
    assert _cli(town, "export", *args).exit_code == 0
    with path.open(encoding="utf-8") as f:
        assert next(csv.reader(f))[:3] == ["lon", "lat", "source_id"]
    again = _cli(town, "import", "checkpoints", str(path), "--format", "json")
    report = orjson.loads(again.stdout)
    assert (report["inserted"], report["updated"], report["warnings"]) == (0, 0, [])
    assert report["unchanged"] > 0
    roads = ("roads", "--for-import", "--lonlat", "--format", "csv", "-o", str(path))
    assert _cli(town, "export", *roads).exit_code == 2  # not points


def test_the_ledger_layers_are_written_as_the_csv_they_are_imported_from(
    town: TestDatabase, tmp_path: Path
) -> None:
    from geodata.imports.disinfection_layers import PLACE_FIELDS, PLACES
    from geodata.imports.enterprise_layers import FIELDS, PASSES

    for layer, fields in ((PLACES, PLACE_FIELDS), (PASSES, FIELDS[PASSES])):
        path = tmp_path / f"{layer}.csv"
        done = _cli(town, "export", layer, "--for-import", "-o", str(path))
        assert done.exit_code == 0, done.output
        with path.open(encoding="utf-8") as f:
            assert next(csv.reader(f)) == list(fields), layer  # passes: in full
    gpkg = tmp_path / "places.gpkg"
    assert (
        _cli(town, "export", "disinfection-places", "--for-import", "-o", str(gpkg)).exit_code == 2
    )


@pytest.mark.parametrize("layer", [Layer.HOUSEHOLDS, Layer.RESIDENTS, Layer.VISITS], ids=str)
def test_the_full_level_carries_the_import_s_fields_too(
    town: TestDatabase, tmp_path: Path, layer: Layer
) -> None:
    path = tmp_path / f"{layer.value}.csv"
    request = ExportRequest(layer.value, Format.CSV, PrivacyLevel.FULL)
    with town.app.begin() as conn:
        rows = export_to_file(conn, ADMIN, request, path, pseudonym_key=lambda: b"k" * 40).rows
    with path.open(encoding="utf-8") as f:
        assert set(field_names(LAYERS[layer])) <= set(next(csv.reader(f)))
    with town.owner.connect() as conn, conn.begin() as outer:
        report = run_import(conn, layer, path)
        assert (report.inserted, report.updated, report.unchanged) == (0, 0, rows)
        outer.rollback()
