"""Imports on a real PostGIS: every bad input refused with its row named, nothing changed."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from shapely import box
from sqlalchemy import Connection, text

from geodata.cli import main
from geodata.db.stats import table_counts
from geodata.imports import load, readers
from geodata.imports.load import import_file
from geodata.imports.report import ImportReport, Layer, ReadOptions
from tests import conftest, factories
from tests.shared_data import OSM_GPKG
from webapp import create_app

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


@pytest.fixture
def town(conn: Connection) -> int:
    """One village with one grid covering it."""
    village = factories.village(conn, "V1", TOWN)
    factories.grid(conn, village, "G1", TOWN)
    return village


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
    code, out = _cli(throwaway_db, "import", "villages", str(path), "--format", "json")
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


@pytest.fixture
def buildings(conn: Connection, tmp_path: Path, town: int) -> None:
    report = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, good_buildings(3), "buildings"))
    assert report.ok, report
    assert report.inserted == 3


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


def _cli(db: conftest.TestDatabase, *args: str) -> tuple[int, str]:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
    }
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout


def _sites(tmp_path: Path, *, beds: object = 4, name: str = "sites") -> Path:
    return write_geojson(
        tmp_path,
        [
            feature(
                {"type": "Point", "coordinates": [9.52, 47.12]},
                source_id="cli-1",
                name="Hall",
                beds=beds,
            )
        ],
        name,
    )


def test_cli_exit_codes(own_db: conftest.TestDatabase, tmp_path: Path) -> None:
    code, out = _cli(own_db, "import", "isolation-sites", str(_sites(tmp_path)), "--format", "json")
    assert code == 0, out
    report = orjson.loads(out)
    assert (report["layer"], report["inserted"], report["errors"]) == ("isolation-sites", 1, [])
    code, out = _cli(own_db, "import", "isolation-sites", str(_sites(tmp_path)))
    assert code == 0
    assert "0 inserted, 0 updated, 1 unchanged" in out
    bad = _sites(tmp_path, beds="many", name="bad")
    code, out = _cli(own_db, "import", "isolation-sites", str(bad), "--format", "json")
    assert code == 1
    errors = orjson.loads(out)["errors"]
    assert errors == [
        {"reason": "'many' is not a whole number", "feature": 0, "line": None, "field": "beds"}
    ]
    code, out = _cli(own_db, "import", "isolation-sites", str(bad))
    assert code == 1
    assert "REFUSED" in out
    assert "'many' is not a whole number" in out
    assert _cli(own_db, "import", "isolation-sites", str(tmp_path / "missing.geojson"))[0] == 2
    assert _cli(own_db, "import", "lakes", str(bad))[0] == 2
    assert _cli(own_db, "import", "isolation-sites", str(bad), "--datum", "mars")[0] == 2
    code, out = _cli(own_db, "import", "households", "--help")
    assert code == 0
    assert "members (integer, required; >= 0)" in out


# --- the web endpoint -------------------------------------------------------------------------


@pytest.fixture
def web(own_db: conftest.TestDatabase) -> Iterator[dict[str, Any]]:
    """The app over a database of the test's own (imports commit)."""
    accounts = {
        "admin": conftest.make_account(own_db, "imp-admin", "admin"),
        "planner": conftest.make_account(own_db, "imp-planner", "planner"),
    }
    app = create_app(own_db.settings, engine=own_db.app, admin_engine=own_db.owner)
    try:
        yield {"app": app, "accounts": accounts}
    finally:
        engine = app.extensions.get("wangge.import.admin_engine")
        if engine is not None:
            engine.dispose()


def _post(web: dict[str, Any], role: str, path: Path, **form: str) -> Any:
    client = web["app"].test_client()
    token = web["accounts"][role].token
    with path.open("rb") as fh:
        return client.post(
            "/api/v1/import/isolation-sites",
            data={"file": (fh, "my sites.geojson"), **form},
            headers={"Authorization": f"Bearer {token}"},
            content_type="multipart/form-data",
        )


def test_web_import_for_admin_refused_for_planner(web: dict[str, Any], tmp_path: Path) -> None:
    assert _post(web, "planner", _sites(tmp_path)).status_code == 403
    dry = _post(web, "admin", _sites(tmp_path), dry_run="true")
    assert dry.status_code == 200
    assert dry.get_json()["inserted"] == 1
    ok = _post(web, "admin", _sites(tmp_path))
    assert ok.status_code == 200, ok.get_json()
    body = ok.get_json()
    assert (body["inserted"], body["file"]) == (1, "my_sites.geojson")
    again = _post(web, "admin", _sites(tmp_path)).get_json()
    assert again["unchanged"] == 1
    refused = _post(web, "admin", _sites(tmp_path, beds=-2, name="bad"))
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "beds"


def test_web_import_checks_the_size_before_parsing(web: dict[str, Any], tmp_path: Path) -> None:
    web["app"].config["WANGGE_IMPORT_MAX_BYTES"] = 2048
    big = write_text(tmp_path, "x" * 5000, "big.geojson")
    assert _post(web, "admin", big).status_code == 413


class RecordingStream(io.BytesIO):
    """An upload body that remembers whether anything read it."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.was_read = False

    def read(self, size: int | None = -1, /) -> bytes:
        self.was_read = True
        return super().read(size)

    def readline(self, size: int | None = -1, /) -> bytes:
        self.was_read = True
        return super().readline(size)

    def readinto(self, buffer: Any, /) -> int:
        self.was_read = True
        return super().readinto(buffer)


_BOUNDARY = "wangge-boundary"
_BIG_UPLOAD = (
    f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.geojson"\r\n'
    "Content-Type: application/geo+json\r\n\r\n"
).encode() + b" " * (8 * 1024 * 1024)


def _raw_upload(client: Any, headers: dict[str, str]) -> tuple[int, bool]:
    """POST an 8 MiB multipart body; the status and whether the app read any of it."""
    stream = RecordingStream(_BIG_UPLOAD + f"\r\n--{_BOUNDARY}--\r\n".encode())
    response = client.post(
        "/api/v1/import/isolation-sites",
        input_stream=stream,
        headers={
            "Content-Type": f"multipart/form-data; boundary={_BOUNDARY}",
            "Content-Length": str(len(stream.getvalue())),
            **headers,
        },
    )
    return response.status_code, stream.was_read


def _session_client(web: dict[str, Any], role: str) -> tuple[Any, str]:
    """A client signed in as `role` through the login form, and its CSRF token."""
    client = web["app"].test_client()

    def token() -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert found
        return found.group(1)

    account = web["accounts"][role]
    signed_in = client.post(
        "/login",
        data={"username": account.username, "password": account.password, "csrf_token": token()},
    )
    assert signed_in.status_code == 302
    return client, token()  # the session is new after signing in, and so is its token


def test_a_refused_upload_is_answered_without_reading_its_body(web: dict[str, Any]) -> None:
    web["app"].config["WANGGE_IMPORT_MAX_BYTES"] = 16 * 1024 * 1024
    anonymous = web["app"].test_client()
    assert _raw_upload(anonymous, {}) == (401, False)
    assert _raw_upload(anonymous, {"Authorization": "Bearer not-a-token"}) == (401, False)
    planner = {"Authorization": f"Bearer {web['accounts']['planner'].token}"}
    assert _raw_upload(anonymous, planner) == (403, False)
    in_session, token = _session_client(web, "planner")
    assert _raw_upload(in_session, {"X-CSRFToken": token}) == (403, False)
    admin, token = _session_client(web, "admin")
    assert _raw_upload(admin, {}) == (400, False)  # a session's upload needs its CSRF header
    assert _raw_upload(admin, {"X-CSRFToken": "forged"}) == (400, False)
    status, read = _raw_upload(admin, {"X-CSRFToken": token})
    assert (status, read) == (
        422,
        True,
    )  # allowed: read, then refused as a file that is not GeoJSON


def test_a_session_upload_with_its_csrf_header_is_imported(
    web: dict[str, Any], tmp_path: Path
) -> None:
    client, token = _session_client(web, "admin")
    with _sites(tmp_path).open("rb") as fh:
        answer = client.post(
            "/api/v1/import/isolation-sites",
            data={"file": (fh, "sites.geojson"), "dry_run": "true"},
            headers={"X-CSRFToken": token},
            content_type="multipart/form-data",
        )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["inserted"] == 1


# --- files read in chunks -------------------------------------------------------------------


def test_bad_feature_in_the_last_chunk_refuses_the_whole_file(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "CHUNK_ROWS", 4)
    monkeypatch.setattr(load, "BULK_ROWS", 4)  # indexes dropped, then built once
    dropped: list[list[str]] = []

    def defer(conn_: Connection, table: str) -> list[str]:
        dropped.append(real_defer(conn_, table))
        return dropped[-1]

    real_defer = load._defer_indexes
    monkeypatch.setattr(load, "_defer_indexes", defer)
    indexes = text("SELECT indexdef FROM pg_indexes WHERE tablename = 'buildings' ORDER BY 1")
    keys = text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'buildings'::regclass AND contype = 'f' ORDER BY 1"
    )
    before_indexes = conn.execute(indexes).scalars().all()
    before_keys = [tuple(k) for k in conn.execute(keys).all()]
    assert len(before_keys) == 3  # grid, compound and head (its responsible person)
    features = [
        feature(polygon(square(9.50 + i * 0.0005, 47.12)), source_id=f"b{i}", floors=2)
        for i in range(10)
    ]
    features[9]["geometry"] = BOWTIE
    path = write_geojson(tmp_path, features)
    chunks = list(readers.read_chunks(path, ReadOptions(), expect_geometry=True))
    assert [c.frame["__feature__"].tolist() for c in chunks] == [
        [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]
    ]  # fmt: skip
    before = table_counts(conn)
    report = run(conn, Layer.BUILDINGS, path)
    assert_refused(conn, report, before, "Self-intersection")
    assert [(e.feature, e.field) for e in report.errors] == [(9, "geometry")]
    assert conn.execute(text("SELECT count(*) FROM buildings")).scalar() == 0
    assert conn.execute(indexes).scalars().all() == before_indexes
    assert [tuple(k) for k in conn.execute(keys).all()] == before_keys
    assert len(dropped) == 1
    plain = [i for i in before_indexes if not i.startswith("CREATE UNIQUE")]
    added = [f"ALTER TABLE buildings ADD CONSTRAINT {name} {d}" for name, d in before_keys]
    assert sorted(dropped[0]) == sorted(plain + added)  # every plain index and key, only those

    features[9]["geometry"] = polygon(square(9.52, 47.13))
    features[8]["properties"]["source_id"] = "b1"
    report = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, features, "dup"))
    assert_refused(conn, report, before, "duplicate source id 'b1' (first at feature 1)")
    assert [(e.feature, e.field) for e in report.errors] == [(8, "source_id")]

    features[8]["properties"]["source_id"] = "b8"
    report = run(conn, Layer.BUILDINGS, write_geojson(tmp_path, features, "ok"))
    assert (report.errors, report.inserted) == ([], 10)
    assert conn.execute(indexes).scalars().all() == before_indexes
    assert [tuple(k) for k in conn.execute(keys).all()] == before_keys


def test_repeated_key_in_the_last_chunk_refuses_the_whole_file(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "CHUNK_ROWS", 4)
    features = [
        feature(polygon(square(9.50 + i * 0.0005, 47.12)), source_id=f"b{i}", floors=2)
        for i in range(10)
    ]
    text_ = orjson.dumps({"type": "FeatureCollection", "features": features}).decode()
    text_ = text_.replace('"source_id":"b9"', '"source_id":"b9","floors":3')
    before = table_counts(conn)
    report = run(conn, Layer.BUILDINGS, write_text(tmp_path, text_, "repeated.geojson"))
    assert_refused(conn, report, before, "duplicate key 'floors' in a JSON object")
    assert run(conn, Layer.BUILDINGS, write_geojson(tmp_path, features)).inserted == 10
