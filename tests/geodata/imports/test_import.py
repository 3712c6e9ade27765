"""Imports on a real PostGIS: every bad input refused with its row named, nothing changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, text

from geodata.db.stats import table_counts
from geodata.imports.report import Layer
from tests import conftest
from tests.geodata.imports.support import (
    BOWTIE,
    OSM,
    assert_refused,
    feature,
    good_buildings,
    polygon,
    run,
    run_cli,
    square,
    write_geojson,
    write_text,
)

SPIKE = polygon(
    [[9.52, 47.12], [9.522, 47.12], [9.522, 47.121], [9.523, 47.121], [9.522, 47.121],
     [9.522, 47.122], [9.52, 47.122], [9.52, 47.12]]
)  # fmt: skip
HOLE_OUTSIDE = polygon(square(9.52, 47.12), square(9.53, 47.13))
THREE_POINT_RING = polygon([[9.52, 47.12], [9.521, 47.12], [9.52, 47.12]])
UNCLOSED = polygon([[9.52, 47.12], [9.521, 47.12], [9.521, 47.121], [9.52, 47.121]])
OVERLAPPING = {
    "type": "MultiPolygon",
    "coordinates": [[square(9.52, 47.12, 0.002)], [square(9.521, 47.121, 0.002)]],
}
COLLECTION = {"type": "GeometryCollection", "geometries": [polygon(square(9.52, 47.12))]}
LINE = {"type": "LineString", "coordinates": [[9.52, 47.12], [9.53, 47.13]]}


@pytest.mark.parametrize(
    ("layer", "geometry", "needle"),
    [
        (Layer.BUILDINGS, BOWTIE, "Self-intersection"),
        (Layer.BUILDINGS, SPIKE, "Self-intersection"),
        (Layer.BUILDINGS, HOLE_OUTSIDE, "Hole lies outside shell"),
        (Layer.BUILDINGS, THREE_POINT_RING, ""),
        (Layer.BUILDINGS, UNCLOSED, ""),
        (Layer.GRIDS, OVERLAPPING, "Self-intersection"),
        (Layer.BUILDINGS, {"type": "Polygon", "coordinates": []}, ""),
        (Layer.BUILDINGS, None, ""),
        (Layer.BUILDINGS, COLLECTION, ""),
        (Layer.BUILDINGS, LINE, "LineString where Polygon is expected"),
        (Layer.BUILDINGS, {"type": "Hexagon", "coordinates": []}, ""),
        (
            Layer.BUILDINGS,
            polygon(
                [[9.52, 47.12, 1, 2], [9.53, 47.12, 1, 2], [9.53, 47.13, 1, 2], [9.52, 47.12, 1, 2]]
            ),
            "",
        ),
    ],
)
def test_bad_geometry_is_refused_and_named(
    conn: Connection, tmp_path: Path, town: int, layer: Layer, geometry: Any, needle: str
) -> None:
    before = table_counts(conn)
    extra = {"code": "X1"} if layer is Layer.GRIDS else {}
    features = [
        feature(polygon(square(9.53, 47.13)), source_id="ok", code="X0"),
        feature(geometry, source_id="bad", **extra),
    ]
    report = run(conn, layer, write_geojson(tmp_path, features))
    assert_refused(conn, report, before, needle)
    assert any(e.feature == 1 for e in report.errors), report.errors
    assert all(e.feature in (1, None) for e in report.errors), report.errors


@pytest.mark.parametrize(
    "raw_coordinates",
    ['["9.52", "47.12"]', "[NaN, 47.12]", "[Infinity, 47.12]", "[1e400, 47.12]"],
)
def test_unreadable_numbers_are_refused(
    conn: Connection, tmp_path: Path, raw_coordinates: str
) -> None:
    before = table_counts(conn)
    body = (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"source_id":"p1","name":"a","beds":3},"geometry":{"type":"Point","coordinates":'
        + raw_coordinates
        + "}}]}"
    )
    report = run(conn, Layer.ISOLATION_SITES, write_text(tmp_path, body, "sites.geojson"))
    assert_refused(conn, report, before)


def test_repair_fixes_a_bowtie_and_lists_it(conn: Connection, tmp_path: Path) -> None:
    path = write_geojson(tmp_path, [*good_buildings(1), feature(BOWTIE, source_id="bow")])
    report = run(conn, Layer.BUILDINGS, path, repair=True)
    assert report.ok, report.errors
    assert report.inserted == 2
    assert report.repaired == [
        {
            "feature": 1,
            "reason": "Self-intersection[9.5205 47.1205]: made valid; "
            "kept the largest of 2 parts (50% of the area dropped)",
        }
    ]
    # One of the bow tie's two triangles (of equal area), whole.
    kept = "POLYGON((9.5205 47.1205, 9.521 47.12, 9.521 47.121, 9.5205 47.1205))"
    valid = conn.execute(
        text(
            "SELECT ST_IsValid(geom), GeometryType(geom), ST_Equals(geom, ST_GeomFromText(:kept,"
            " 4326)) FROM buildings WHERE source_id = 'bow'"
        ),
        {"kept": kept},
    ).one()
    assert tuple(valid) == (True, "POLYGON", True)


def test_repair_never_turns_a_polygon_into_a_line(conn: Connection, tmp_path: Path) -> None:
    before = table_counts(conn)
    flat = polygon([[9.52, 47.12], [9.521, 47.12], [9.522, 47.12], [9.52, 47.12]])
    report = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, [feature(flat, source_id="f")]),
                 repair=True)  # fmt: skip
    assert_refused(conn, report, before)


def test_wrong_winding_is_accepted_and_normalised(conn: Connection, tmp_path: Path) -> None:
    clockwise = polygon(list(reversed(square(9.52, 47.12))))
    report = run(
        conn, Layer.BUILDINGS, write_geojson(tmp_path, [feature(clockwise, source_id="cw")])
    )
    assert report.ok, report
    assert report.inserted == 1
    ccw = conn.execute(
        text("SELECT ST_IsPolygonCCW(geom) FROM buildings WHERE source_id = 'cw'")
    ).scalar_one()
    assert ccw is True


# --- coordinates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "needle"),
    [
        ([200.0, 47.12], "longitude outside ±180"),
        ([47.12, 95.0], "latitude outside"),
        ([116.4, 95.0], "latitude outside ±90"),
        ([758000.0, 5220000.0], "projected metres"),
        ([47.13, 9.53], "swapped"),
        ([9.9, 47.4], "km outside the villages"),
    ],
)
def test_bad_coordinates_are_refused(
    conn: Connection, tmp_path: Path, town: int, point: list[float], needle: str
) -> None:
    before = table_counts(conn)
    features = [
        feature({"type": "Point", "coordinates": [9.53, 47.13]}, source_id="ok", name="a", beds=1),
        feature({"type": "Point", "coordinates": point}, source_id="bad", name="b", beds=1),
    ]
    report = run(conn, Layer.ISOLATION_SITES, write_geojson(tmp_path, features))
    assert_refused(conn, report, before, needle)
    assert [e.feature for e in report.errors] == [1]


def test_no_extent_check_without_villages(conn: Connection, tmp_path: Path) -> None:
    path = write_geojson(tmp_path, good_buildings(2, x=100.0, y=30.0))
    report = run(conn, Layer.BUILDINGS, path)
    assert report.ok, report
    assert report.inserted == 2


# --- records --------------------------------------------------------------------------------


def test_duplicate_ids_are_refused(conn: Connection, tmp_path: Path) -> None:
    before = table_counts(conn)
    features = [*good_buildings(2), feature(polygon(square(9.54, 47.12)), source_id="b0")]
    report = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, features))
    assert_refused(conn, report, before, "duplicate source id 'b0' (first at feature 0)")
    assert [(e.feature, e.field) for e in report.errors] == [(2, "source_id")]


MARKUP_ID = "<b>x</b><img src=/x onerror=alert(1)>"
META_ID = '<meta http-equiv="refresh" content="0;url=/">'


def _villages(*rows: tuple[str, str, str]) -> list[dict[str, Any]]:
    """(source_id, code, name) per village, side by side."""
    return [
        feature(polygon(square(9.50 + i * 0.001, 47.12)), source_id=sid, code=code, name=name)
        for i, (sid, code, name) in enumerate(rows)
    ]


def test_ids_and_codes_that_are_not_plain_text_are_refused(
    conn: Connection, tmp_path: Path
) -> None:
    """Every bad id and code named by feature, field and reason; nothing written."""
    features = _villages(
        ("v-ok", "V-OK", "<b>names may hold markup</b>"),
        (MARKUP_ID, "V1", "one"),
        ("v-2", META_ID[:32], "two"),
        ("v-3", "V\x003", "three"),
        ("v\r\n4", "V4", "four"),
        ("v-5", "O'Neil", "five"),
        ("v-6", "V\u202e6", "six"),
    )
    before = table_counts(conn)
    report = run(conn, Layer.VILLAGES, write_geojson(tmp_path, features))
    assert_refused(conn, report, before)
    found = [(e.feature, e.field, e.reason) for e in report.errors]
    rule = "an id or code is printable characters without < > \" ' or control characters"
    control = f"holds a control or other unprintable character: {rule}"
    assert found == [
        (1, "source_id", f"the source id holds < >: {rule}"),
        (2, "code", f'the code holds < ": {rule}'),
        (3, "code", f"the code {control}"),
        (4, "source_id", f"the source id {control}"),
        (5, "code", f"the code holds ': {rule}"),
        (6, "code", f"the code {control}"),
    ]


def test_markup_in_names_is_imported_as_text(conn: Connection, tmp_path: Path) -> None:
    features = _villages(("v-named", "V-N", NAME_WITH_MARKUP))
    report = run(conn, Layer.VILLAGES, write_geojson(tmp_path, features))
    assert report.errors == []
    assert report.inserted == 1
    stored = conn.execute(text("SELECT name FROM villages WHERE source_id = 'v-named'"))
    assert stored.scalar_one() == NAME_WITH_MARKUP


def test_a_nul_in_a_name_is_refused_by_name(conn: Connection, tmp_path: Path) -> None:
    """Names may hold any text PostgreSQL can store: NUL it cannot (a crash before)."""
    before = table_counts(conn)
    report = run(
        conn, Layer.VILLAGES, write_geojson(tmp_path, _villages(("v-nul", "VN", "a\x00b")))
    )
    assert_refused(conn, report, before)
    assert [(e.feature, e.field, e.reason) for e in report.errors] == [
        (0, "name", "holds a NUL character, which no stored text may")
    ]


NAME_WITH_MARKUP = '<img src=/x onerror=alert(1)><meta http-equiv="refresh" content="0">'


def test_cli_refuses_a_markup_id_with_exit_code_1(
    throwaway_db: conftest.TestDatabase, tmp_path: Path
) -> None:
    path = write_geojson(tmp_path, _villages((META_ID, "V-CLI", "cli")))
    with throwaway_db.owner.connect() as c:
        before = table_counts(c)
    code, out = run_cli(throwaway_db, "import", "villages", str(path), "--format", "json")
    assert code == 1
    (error,) = orjson.loads(out)["errors"]
    assert (error["feature"], error["field"]) == (0, "source_id")
    assert error["reason"].startswith('the source id holds < > ":')
    with throwaway_db.owner.connect() as c:
        assert table_counts(c) == before


def test_numbers_read_as_numbers_keep_their_rules(conn: Connection, tmp_path: Path) -> None:
    """Whole-number columns the reader already holds as integers are checked as text is."""
    features = [
        feature(polygon(square(9.50 + i * 0.001, 47.12)), source_id=f"b{i}", floors=f)
        for i, f in enumerate([-3, 500, 2, 7])
    ]
    before = table_counts(conn)
    report = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, features))
    assert_refused(conn, report, before)
    assert [(e.feature, e.field, e.reason) for e in report.errors] == [
        (0, "floors", "'-3' is below 1"),
        (1, "floors", "'500' is above 200"),
    ]
    features[0]["properties"]["floors"], features[1]["properties"]["floors"] = 1, 200
    report = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, features, "ok"))
    assert (report.errors, report.inserted) == ([], 4)
    stored = conn.execute(text("SELECT floors FROM buildings ORDER BY source_id")).scalars()
    assert list(stored) == [1, 200, 2, 7]


def test_missing_source_id_field_is_refused(conn: Connection, tmp_path: Path) -> None:
    before = table_counts(conn)
    features = [feature(polygon(square(9.52, 47.12)), ref="x")]
    report = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, features))
    assert_refused(conn, report, before, "no 'source_id' field")
    ok = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, features, "b"), id_field="ref")
    assert ok.ok
    assert ok.inserted == 1


@pytest.mark.parametrize(
    ("row", "needle", "field"),
    [
        ("h2,b1,three,normal", "'three' is not a whole number", "members"),
        ("h2,b1,-1,normal", "'-1' is below 0", "members"),
        ("h2,b1,2.5,normal", "not a whole number", "members"),
        ("h2,b1,,normal", "required value missing", "members"),
        ("h2,b99,2,normal", "no buildings has source id 'b99'", "building_source_id"),
        ("h2,b1,2,sleeping", "is not one of normal", "status"),
        ("h1,b1,2,normal", "duplicate source id 'h1' (first at line 2)", "source_id"),
    ],
)
def test_bad_household_rows_are_refused_with_their_line(
    conn: Connection, tmp_path: Path, buildings: None, row: str, needle: str, field: str
) -> None:
    before = table_counts(conn)
    body = f"source_id,building_source_id,members,status\nh1,b0,3,normal\n{row}\n"
    report = run(conn, Layer.HOUSEHOLDS, write_text(tmp_path, body, "households.csv"))
    assert_refused(conn, report, before, needle)
    assert [(e.line, e.field) for e in report.errors] == [(3, field)]


def test_required_field_missing_is_refused(
    conn: Connection, tmp_path: Path, buildings: None
) -> None:
    before = table_counts(conn)
    body = "source_id,building_source_id\nh1,b0\n"
    report = run(conn, Layer.HOUSEHOLDS, write_text(tmp_path, body, "households.csv"))
    assert_refused(conn, report, before, "required field 'members' is missing")


def test_households_follow_their_building(
    conn: Connection, tmp_path: Path, buildings: None
) -> None:
    body = "source_id,building_source_id,members,unit\nh1,b0,3,1\nh2,b1,0,2\n"
    report = run(conn, Layer.HOUSEHOLDS, write_text(tmp_path, body, "households.csv"))
    assert report.ok, report
    assert report.inserted == 2
    grids = conn.execute(
        text(
            "SELECT h.source_id, g.code FROM households h JOIN grids g ON g.id = h.grid_id "
            "ORDER BY 1"
        )
    ).all()
    assert [tuple(r) for r in grids] == [("h1", "G1"), ("h2", "G1")]
    building_grid = conn.execute(
        text("SELECT g.code FROM buildings b JOIN grids g ON g.id = b.grid_id LIMIT 1")
    ).scalar_one()
    assert building_grid == "G1"


# --- idempotence and updates ----------------------------------------------------------------


def _rows(conn: Connection) -> list[tuple[Any, ...]]:
    return [
        tuple(r)
        for r in conn.execute(
            text("SELECT source_id, version, updated_at, floors FROM buildings ORDER BY 1")
        )
    ]


def test_reimport_changes_nothing_and_a_change_bumps_the_version(
    conn: Connection, tmp_path: Path
) -> None:
    path = write_geojson(tmp_path, good_buildings(3))
    first = run(conn, Layer.BUILDINGS, path)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    rows = _rows(conn)
    counts = table_counts(conn)
    again = run(conn, Layer.BUILDINGS, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert _rows(conn) == rows
    assert {k: v for k, v in table_counts(conn).items() if k != "audit_events"} == {
        k: v for k, v in counts.items() if k != "audit_events"
    }
    changed = good_buildings(3)
    changed[1]["properties"]["floors"] = 5
    third = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, changed, "changed"))
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 2)
    after = {r[0]: r for r in _rows(conn)}
    assert after["b1"][1] == 2
    assert after["b1"][3] == 5
    assert after["b0"] == rows[0]
    assert after["b2"] == rows[2]


def test_dry_run_counts_and_changes_nothing(conn: Connection, tmp_path: Path) -> None:
    before = table_counts(conn)
    report = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, good_buildings(2)), dry_run=True)
    assert report.ok
    assert report.inserted == 2
    assert report.dry_run
    assert table_counts(conn) == before


def test_import_is_audited_with_counts_only(conn: Connection, tmp_path: Path) -> None:
    run(conn, Layer.BUILDINGS, write_geojson(tmp_path, good_buildings(2)))
    event = conn.execute(
        text(
            "SELECT actor, object_type, row_count, detail FROM audit_events "
            "WHERE action = 'import' ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert event[0:3] == ("test", "buildings", 2)
    assert event[3]["inserted"] == 2
    assert "B0" not in orjson.dumps(event[3]).decode()


def test_osm_buildings_import_then_reimport_unchanged(conn: Connection) -> None:
    first = run(conn, Layer.BUILDINGS, OSM, id_field="id", layer_name="buildings")
    assert first.ok, first.errors[:5]
    assert (first.inserted, first.updated) == (3723, 0)
    second = run(conn, Layer.BUILDINGS, OSM, id_field="id", layer_name="buildings")
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3723)


# --- the command line -------------------------------------------------------------------------
