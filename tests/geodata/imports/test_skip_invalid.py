"""`--skip-invalid`: features whose geometry cannot be read or repaired are left out and
listed; the rest loads all or nothing; a re-import with the same flags changes nothing."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import Connection, text

from geodata.db.stats import table_counts
from geodata.imports.load import import_file
from geodata.imports.report import ImportReport, Layer, ReadOptions
from tests.conftest import TestDatabase
from tests.geodata.imports.support import (
    BOWTIE,
    assert_refused,
    feature,
    good_buildings,
    polygon,
    run_cli,
    write_geojson,
)

TWO_POINT_RING = polygon([[9.52, 47.12], [9.521, 47.12], [9.52, 47.12]])
FLAT = polygon([[9.52, 47.12], [9.521, 47.12], [9.522, 47.12], [9.52, 47.12]])


def _import(conn: Connection, path: Path, *, skip_invalid: bool) -> ImportReport:
    return import_file(
        conn, Layer.BUILDINGS, path, ReadOptions(), repair=True, dry_run=False, actor="test",
        skip_invalid=skip_invalid,
    )  # fmt: skip


def _file(tmp_path: Path) -> Path:
    return write_geojson(
        tmp_path,
        [
            *good_buildings(3),
            feature(TWO_POINT_RING, source_id="sliver-1"),
            feature(BOWTIE, source_id="bow"),
            feature(FLAT, source_id="sliver-2"),
        ],
    )


def test_without_the_flag_the_whole_file_is_refused(conn: Connection, tmp_path: Path) -> None:
    before = table_counts(conn)
    assert_refused(conn, _import(conn, _file(tmp_path), skip_invalid=False), before)


def test_unrepairable_features_are_skipped_and_listed(conn: Connection, tmp_path: Path) -> None:
    path = _file(tmp_path)
    report = _import(conn, path, skip_invalid=True)
    assert report.ok, report.errors
    assert report.inserted == 4  # three good buildings and the repaired bow tie
    assert [s["feature"] for s in report.skipped] == [3, 5]
    assert all("invalid geometry" in s["reason"] for s in report.skipped)
    assert [r["feature"] for r in report.repaired] == [4]
    assert report.as_dict()["skipped"] == report.skipped
    stored = conn.execute(
        text("SELECT source_id FROM buildings WHERE source_id IN ('sliver-1', 'sliver-2', 'bow')")
    ).scalars()
    assert set(stored) == {"bow"}
    again = _import(conn, path, skip_invalid=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert again.skipped == report.skipped


def test_other_problems_still_refuse_the_file(conn: Connection, tmp_path: Path) -> None:
    before = table_counts(conn)
    path = write_geojson(
        tmp_path,
        [*good_buildings(2), feature(TWO_POINT_RING, source_id="sliver"),
         feature(good_buildings(1)[0]["geometry"], source_id="b0")],
    )  # fmt: skip
    report = _import(conn, path, skip_invalid=True)
    assert_refused(conn, report, before, "duplicate source id")


def test_the_command_reports_skipped(throwaway_db: TestDatabase, tmp_path: Path) -> None:
    path = _file(tmp_path)
    args = ("import", "buildings", str(path), "--repair", "--skip-invalid", "--format", "json")
    code, out = run_cli(throwaway_db, *args)
    assert code == 0, out
    report = orjson.loads(out)
    assert [s["feature"] for s in report["skipped"]] == [3, 5]
    assert report["inserted"] == 4
    code, out = run_cli(throwaway_db, *args)
    assert code == 0, out
    assert orjson.loads(out)["unchanged"] == 4
