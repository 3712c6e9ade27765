"""Imports of the people layers: teams, staff, shifts and the people on them, each bad row named
and nothing changed; re-imports unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely import box
from sqlalchemy import Connection, text

from geodata.db.stats import table_counts
from geodata.imports.load import import_file
from geodata.imports.report import ImportReport, Layer, ReadOptions
from tests import factories

WEST = box(9.50, 47.10, 9.53, 47.16)
EAST = box(9.53, 47.10, 9.56, 47.16)

TEAMS = """source_id,name,kind,village_code,parent_source_id
w-unit,West unit,combat_unit,W,
w-gate,West gate group,checkpoint,W,w-unit
e-unit,East unit,combat_unit,E,
"""
STAFF = """source_id,name,role,village_code,team_source_id,grid_code,phone
s1,Li Wei,checkpoint_staff,W,w-gate,,13800000001
s2,Wang Fang,checkpoint_staff,W,w-gate,,
s3,Zhang Min,grid_leader,W,,GW,
s4,Chen Jie,checkpoint_staff,E,e-unit,,
"""
SHIFTS = """source_id,checkpoint_source_id,starts_at,ends_at
day,kw,2026-02-01T08:00:00+08:00,2026-02-01T16:00:00+08:00
late,kw,2026-02-01T16:00:00+08:00,2026-02-02T00:00:00+08:00
east,ke,2026-02-01T08:00:00+08:00,2026-02-01T16:00:00+08:00
"""
SHIFT_STAFF = """shift_source_id,staff_source_id
day,s1
day,s2
late,s1
east,s4
"""


def run(conn: Connection, layer: Layer, path: Path) -> ImportReport:
    return import_file(conn, layer, path, ReadOptions(), repair=False, dry_run=False, actor="test")


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.csv"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def town(conn: Connection) -> Connection:
    """Two villages of one grid each, a checkpoint in each."""
    for code, area in (("W", WEST), ("E", EAST)):
        village = factories.village(conn, code, area)
        factories.grid(conn, village, f"G{code}", area)
        conn.execute(
            text(
                "INSERT INTO checkpoints (source_id, name, kind, state, staff_per_shift, radius_m, "
                "village_id, geom) VALUES (:sid, :name, 'village_gate', 'active', 2, 30, :v, "
                "ST_Centroid(ST_GeomFromText(:wkt, 4326)))"
            ),
            {"sid": f"k{code.lower()}", "name": code, "v": village, "wkt": area.wkt},
        )
    return conn


def load_all(conn: Connection, tmp_path: Path) -> list[ImportReport]:
    files = [(Layer.TEAMS, TEAMS), (Layer.STAFF, STAFF), (Layer.SHIFTS, SHIFTS)]
    files.append((Layer.SHIFT_STAFF, SHIFT_STAFF))
    reports = [run(conn, layer, write(tmp_path, layer.value, body)) for layer, body in files]
    for report in reports:
        assert not report.errors, report
    return reports


def refused(conn: Connection, layer: Layer, path: Path) -> list[tuple[int | None, str, str]]:
    before = table_counts(conn)
    report = run(conn, layer, path)
    assert report.errors, report
    assert report.inserted == report.updated == report.unchanged == 0
    assert table_counts(conn) == before
    return [(e.line, e.field or "", e.reason) for e in report.errors]


def test_people_import_then_reimport_unchanged(town: Connection, tmp_path: Path) -> None:
    reports = load_all(town, tmp_path)
    assert [r.inserted for r in reports] == [3, 4, 3, 4]
    parent = town.execute(
        text("SELECT p.source_id FROM teams t JOIN teams p ON p.id = t.parent_id")
    ).scalar_one()
    assert parent == "w-unit"
    counts = {
        str(r[0]): int(r[1])
        for r in town.execute(text("SELECT source_id, staff_count FROM checkpoint_shifts"))
    }
    assert counts == {"day": 2, "late": 1, "east": 1}
    again = load_all(town, tmp_path)
    assert [(r.inserted, r.updated, r.unchanged) for r in again] == [
        (0, 0, 3),
        (0, 0, 4),
        (0, 0, 3),
        (0, 0, 4),
    ]


def test_a_change_updates_one_staff_row(town: Connection, tmp_path: Path) -> None:
    load_all(town, tmp_path)
    report = run(town, Layer.STAFF, write(tmp_path, "s", STAFF.replace("13800000001", "139")))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 3)


def test_responsible_people_link_by_staff_source_id(town: Connection, tmp_path: Path) -> None:
    load_all(town, tmp_path)
    path = tmp_path / "grids.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"source_id":"test:grid/GW","code":"GW","leader_source_id":"s3"},'
        f'"geometry":{{"type":"Polygon","coordinates":[{list(map(list, WEST.exterior.coords))}]}}'
        "}]}",
        encoding="utf-8",
    )
    report = run(town, Layer.GRIDS, path)
    assert not report.errors, report
    leader = town.execute(
        text("SELECT s.source_id FROM grids g JOIN staff s ON s.id = g.leader_id")
    ).scalar_one()
    assert leader == "s3"


@pytest.mark.parametrize(
    ("layer", "body", "line", "field", "reason"),
    [
        (Layer.TEAMS, TEAMS + "x,X,patrol,Q,\n", 5, "village_code", "no villages has code 'Q'"),
        (Layer.TEAMS, TEAMS + "x,X,patrol,W,nope\n", 5, "parent_source_id", "'nope'"),
        (Layer.TEAMS, TEAMS + "x,X,patrol,W,e-unit\n", 5, "parent_source_id", "another village"),
        (Layer.TEAMS, TEAMS + "x,X,patrol,W,w-gate\n", 5, "parent_source_id", "not a combat unit"),
        (Layer.TEAMS, TEAMS + "x,X,combat_unit,W,w-unit\n", 5, "parent_source_id", "no parent"),
    ],
)
def test_bad_team_rows_are_named(
    town: Connection,
    tmp_path: Path,
    layer: Layer,
    body: str,
    line: int,
    field: str,
    reason: str,
) -> None:
    errors = refused(town, layer, write(tmp_path, "t", body))
    assert len(errors) == 1, errors
    assert errors[0][:2] == (line, field)
    assert reason in errors[0][2]


@pytest.mark.parametrize(
    ("layer", "row", "field", "reason"),
    [
        (Layer.STAFF, "s9,N,grid_worker,W,nope,,", "team_source_id", "no teams has source id"),
        (Layer.STAFF, "s9,N,grid_worker,W,e-unit,,", "team_source_id", "of another village"),
        (Layer.STAFF, "s9,N,grid_worker,W,,GE,", "grid_code", "of another village"),
        (Layer.STAFF, "s4,N,checkpoint_staff,W,,,", "village_code", "is on shift 'east'"),
        (Layer.SHIFTS, "x,kw,2026-02-01T08:00:00+08:00,2026-02-01T07:00:00+08:00", "ends_at",
         "ends at or before its start"),
        (Layer.SHIFTS, "x,kw,2026-02-01T08:00:00+08:00,2026-02-02T09:00:00+08:00", "ends_at",
         "more than 24 h"),
        (Layer.SHIFTS, "x,nope,2026-02-01T08:00:00+08:00,2026-02-01T09:00:00+08:00",
         "checkpoint_source_id", "no checkpoints has source id 'nope'"),
        (Layer.SHIFT_STAFF, "nope,s1", "shift_source_id", "no checkpoint_shifts has source id"),
        (Layer.SHIFT_STAFF, "day,nope", "staff_source_id", "no staff has source id 'nope'"),
        (Layer.SHIFT_STAFF, "east,s1", "staff_source_id",
         "staff 's1' of village W cannot be on shift 'east' of a checkpoint of village E"),
        (Layer.SHIFT_STAFF, "day,s1", "staff_source_id", "same pair"),
    ],
)  # fmt: skip
def test_bad_people_rows_are_named(
    town: Connection, tmp_path: Path, layer: Layer, row: str, field: str, reason: str
) -> None:
    load_all(town, tmp_path)
    header = {Layer.STAFF: STAFF, Layer.SHIFTS: SHIFTS, Layer.SHIFT_STAFF: SHIFT_STAFF}[layer]
    body = header.replace("s4,Chen Jie,checkpoint_staff,E,e-unit,,\n", "") + row + "\n"
    errors = refused(town, layer, write(tmp_path, "bad", body))
    last = body.count("\n")
    assert (last, field) in [(line, f) for line, f, _ in errors], errors
    assert any(reason in r for _, _, r in errors), errors


def test_a_person_on_overlapping_shifts_is_named(town: Connection, tmp_path: Path) -> None:
    load_all(town, tmp_path)
    shifts = SHIFTS + "over,kw,2026-02-01T12:00:00+08:00,2026-02-01T20:00:00+08:00\n"
    assert not run(town, Layer.SHIFTS, write(tmp_path, "sh", shifts)).errors
    errors = refused(
        town, Layer.SHIFT_STAFF, write(tmp_path, "x", "shift_source_id,staff_source_id\nover,s2\n")
    )
    assert errors == [
        (2, "staff_source_id", "staff 's2' on shift 'over' would also be on shift 'day', "
         "which overlaps it")
    ]  # fmt: skip
    both = "shift_source_id,staff_source_id\nover,s9\n"
    town.execute(
        text(
            "INSERT INTO staff (source_id, name, role, village_id) "
            "SELECT 's9', 'N', 'checkpoint_staff', village_id FROM checkpoints WHERE source_id='kw'"
        )
    )
    both = "shift_source_id,staff_source_id\nday,s9\nover,s9\n"
    errors = refused(town, Layer.SHIFT_STAFF, write(tmp_path, "y", both))
    assert errors == [(3, "staff_source_id", "staff 's9' on shift 'over' would also be on shift "
                       "'day', which overlaps it (line 2)")]  # fmt: skip


def test_moving_a_shift_onto_another_of_its_people_is_refused(
    town: Connection, tmp_path: Path
) -> None:
    load_all(town, tmp_path)
    moved = SHIFTS.replace("late,kw,2026-02-01T16:00", "late,kw,2026-02-01T15:00")
    errors = refused(town, Layer.SHIFTS, write(tmp_path, "m", moved))
    assert errors == [
        (3, "starts_at", "staff 's1' on shift 'late' would also be on shift 'day', which it "
         "would overlap")
    ]  # fmt: skip


def test_names_and_phones_are_never_in_a_reason(town: Connection, tmp_path: Path) -> None:
    load_all(town, tmp_path)
    body = STAFF + "s9,Hidden Name,nobody,W,,,+86 hidden\n" + "s8,Hidden Too,grid_worker,W,,,"
    body += "0123456789012345678901234567890123456789\n"
    errors = refused(town, Layer.STAFF, write(tmp_path, "p", body))
    assert len(errors) == 2, errors
    assert all("idden" not in r and "0123" not in r for _, _, r in errors), errors
