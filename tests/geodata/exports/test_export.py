"""Exports: every format read back and compared with the database, RFC 7946 rules, privacy
levels (no personal value in aggregate or pseudonymous output), rights, audit, the CLI."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import Connection, text

from geodata.auth.access import ForbiddenError, Principal, local_operator
from geodata.cli import main
from geodata.disclosure.rules import SUPPRESS_BELOW
from geodata.exports.filters import Filters
from geodata.exports.layers import LAYERS
from geodata.exports.privacy import (
    AggregateLevel,
    PrivacyLevel,
    PseudonymKeyError,
    Pseudonyms,
    load_key,
)
from geodata.exports.run import ExportRequest, ExportResult, Format, export_to_file
from geodata.town_time import TOWN_TIMEZONE
from geodata.vocab import Role
from tests.conftest import TestDatabase

KEY = b"k" * 40
ADMIN = local_operator("tester")
ANALYST = Principal(name="analyst-1", role=Role.ANALYST)
PLANNER = Principal(name="planner-1", role=Role.PLANNER)


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    """The sample town in the module's own database: exports commit their audit events."""
    return throwaway_sample_db


def export(
    db: TestDatabase, tmp: Path, request: ExportRequest, who: Principal = ADMIN, *, key: bytes = KEY
) -> tuple[Path, ExportResult]:
    path = tmp / f"{request.layer}-{request.privacy}-{request.level}.{request.fmt.value}"
    with db.app.begin() as conn:
        result = export_to_file(conn, who, request, path, pseudonym_key=lambda: key)
    return path, result


def rows_of(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def geojson_features(path: Path) -> list[dict[str, Any]]:
    doc = orjson.loads(path.read_bytes())
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    features: list[dict[str, Any]] = doc["features"]
    return features


# -- round trips ------------------------------------------------------------------------
BUILDINGS_SQL = """
    SELECT b.id, b.name, b.floors, b.use, g.code AS grid, ST_AsBinary(b.geom) AS wkb
    FROM buildings b LEFT JOIN grids g ON g.id = b.grid_id ORDER BY b.id
"""


def read_back(path: Path, fmt: Format) -> list[dict[str, Any]]:
    """Features as dicts (id, properties, shapely geometry), read with pyogrio (CSV: csv)."""
    if fmt is Format.CSV:
        with path.open(encoding="utf-8-sig", newline="") as f:
            out = []
            for row in csv.DictReader(f):
                row["geometry"] = shapely.from_wkt(row.pop("wkt"))
                out.append(row)
            return out
    frame = pyogrio.read_dataframe(path, fid_as_index=fmt is Format.GEOJSON)
    if fmt is Format.GEOJSON:  # the Feature id is the OGR feature id
        frame["id"] = frame.index
    records: list[dict[str, Any]] = frame.to_dict("records")
    return records


@pytest.mark.parametrize("fmt", list(Format))
def test_buildings_round_trip_in_every_format(
    town: TestDatabase, tmp_path: Path, fmt: Format
) -> None:
    path, result = export(town, tmp_path, ExportRequest("buildings", fmt, csv_bom=True))
    with town.owner.connect() as conn:
        expected = rows_of(conn, BUILDINGS_SQL)
    got = read_back(path, fmt)
    assert result.rows == len(expected) == len(got) > 1000
    by_id = {int(g["id"]): g for g in got}
    for row in expected:
        feature = by_id[row["id"]]
        for name in ("name", "floors", "use", "grid"):
            value = feature[name]
            if value is None or value == "" or (isinstance(value, float) and value != value):
                value = None
            if fmt is Format.CSV and value is not None and name == "floors":
                value = int(value)
            assert value == row[name], (row["id"], name)
        original = shapely.from_wkb(row["wkb"])
        assert shapely.equals_exact(
            shapely.normalize(feature["geometry"]), shapely.normalize(original), tolerance=1e-6
        ), row["id"]
    if fmt is Format.CSV:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    if fmt in (Format.GPKG, Format.FGB):
        info = pyogrio.read_info(path)
        assert info["crs"] == "EPSG:4326"
        assert info["geometry_type"] == "Polygon"
        assert dict(zip(info["fields"], info["dtypes"], strict=True))["floors"] == "int64"


@pytest.mark.parametrize("fmt", [Format.GEOJSON, Format.GPKG, Format.FGB])
def test_full_visits_keep_types_and_values(town: TestDatabase, tmp_path: Path, fmt: Format) -> None:
    request = ExportRequest("visits", fmt, PrivacyLevel.FULL)
    path, result = export(town, tmp_path, request)
    with town.owner.connect() as conn:
        expected = rows_of(conn, "SELECT id, household_id, visited_at, fever_count FROM visits")
    if fmt is Format.GEOJSON:
        got = {f["id"]: f["properties"] for f in geojson_features(path)}
        for row in expected[:500]:
            props = got[row["id"]]
            assert props["household_id"] == row["household_id"]
            assert props["fever_count"] == row["fever_count"]
            assert props["visited_at"].startswith(row["visited_at"].strftime("%Y-%m-%dT%H:%M:%S"))
    else:
        frame = pyogrio.read_dataframe(path).set_index("id")
        assert str(frame["visited_at"].dtype).startswith("datetime64")
        for row in expected[:500]:
            assert frame.loc[row["id"], "household_id"] == row["household_id"]
            assert frame.loc[row["id"], "fever_count"] == row["fever_count"]
    assert result.rows == len(expected)


def test_csv_lonlat(town: TestDatabase, tmp_path: Path) -> None:
    path, _ = export(town, tmp_path, ExportRequest("checkpoints", Format.CSV, csv_lonlat=True))
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    with town.owner.connect() as conn:
        expected = {
            r["id"]: (r["x"], r["y"])
            for r in rows_of(conn, "SELECT id, ST_X(geom) AS x, ST_Y(geom) AS y FROM checkpoints")
        }
    assert len(rows) == len(expected)
    for row in rows:
        x, y = expected[int(row["id"])]
        assert abs(float(row["lon"]) - x) < 1e-6
        assert abs(float(row["lat"]) - y) < 1e-6


# -- RFC 7946 -----------------------------------------------------------------------------
DECIMALS = re.compile(rb"\d+\.(\d+)")


def assert_rfc7946(path: Path) -> int:
    raw = path.read_bytes()
    raw.decode("utf-8")
    assert max(len(m) for m in DECIMALS.findall(raw)) <= 7
    features = geojson_features(path)
    for feature in features:
        assert feature["type"] == "Feature"
        geometry = feature["geometry"]
        if geometry is None:
            continue
        shape = shapely.geometry.shape(geometry)
        assert shape.is_valid, feature["id"]
        polygons: list[Polygon] = (
            [shape] if isinstance(shape, Polygon)
            else list(shape.geoms) if isinstance(shape, MultiPolygon) else []
        )  # fmt: skip
        for polygon in polygons:
            assert polygon.exterior.is_ccw, feature["id"]
            assert not any(ring.is_ccw for ring in polygon.interiors), feature["id"]
        for lon, lat in _coordinates(geometry):
            assert -180 <= lon <= 180
            assert -90 <= lat <= 90
    return len(features)


def _coordinates(geometry: dict[str, Any]) -> Iterator[tuple[float, float]]:
    def walk(c: Any) -> Iterator[tuple[float, float]]:
        if isinstance(c[0], int | float):
            yield (c[0], c[1])
        else:
            for part in c:
                yield from walk(part)

    yield from walk(geometry["coordinates"])


@pytest.mark.parametrize(
    "request_",
    [
        ExportRequest("villages"),
        ExportRequest("grids"),
        ExportRequest("buildings"),
        ExportRequest("roads"),
        ExportRequest("compounds"),
        ExportRequest("entrances"),
        ExportRequest("patrol_zones"),
        ExportRequest("households"),
        ExportRequest("residents", level=AggregateLevel.HEX),
        ExportRequest("coverage", level=AggregateLevel.VILLAGE),
    ],
    ids=lambda r: f"{r.layer}-{r.level.value}",
)
def test_geojson_follows_rfc7946(
    town: TestDatabase, tmp_path: Path, request_: ExportRequest
) -> None:
    path, result = export(town, tmp_path, request_)
    assert assert_rfc7946(path) == result.rows > 0


def test_a_polygon_with_a_hole_keeps_rfc7946_winding(conn: Connection, tmp_path: Path) -> None:
    """A clockwise shell with a counterclockwise hole comes out the other way round."""
    from tests import factories

    shell = shapely.Polygon(
        [(0, 0), (0, 1), (1, 1), (1, 0)], holes=[[(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]]
    )
    assert not shell.exterior.is_ccw
    factories.building(conn, "holed", shell)
    from geodata.exports.layers import LAYERS as L
    from geodata.exports.privacy import RowView
    from geodata.exports.sources import row_source

    features = list(row_source(L["buildings"], RowView.FULL, Filters()).features(conn, None))
    path = tmp_path / "holed.geojson"
    path.write_text('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}")
    assert assert_rfc7946(path) == 1


# -- privacy ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def personal_values(sample_db: TestDatabase) -> set[str]:
    with sample_db.owner.connect() as conn:
        rows = conn.execute(text("SELECT name, id_number, phone FROM residents")).all()
    values = {v for row in rows for v in row if v}
    assert len(values) > 1000
    return values


DIGITS = re.compile(rb"\d{7,}")
ID_NUMBER = re.compile(rb"\d{17}[\dX]")


def assert_no_personal_values(path: Path, values: set[str]) -> None:
    raw = path.read_bytes()
    # In binary files digits of neighbouring fields may touch: look for the full ID numbers
    # there, and for any long run of digits in text files.
    runs = ID_NUMBER if path.suffix in (".gpkg", ".fgb") else DIGITS
    leaked = {d.decode() for d in runs.findall(raw)} & values
    assert not leaked, f"{len(leaked)} ID numbers or phones in {path.name}"
    if path.suffix in (".gpkg", ".fgb"):
        frame = pyogrio.read_dataframe(path)
        strings = {v for col in frame.columns if frame[col].dtype == object
                   for v in frame[col] if isinstance(v, str)}  # fmt: skip
    else:
        text_ = raw.decode("utf-8-sig")
        strings = set(re.findall(r'"((?:[^"\\]|\\.)*)"', text_)) | set(re.split(r"[,\n]", text_))
    assert not strings & values, f"personal values in {path.name}"
    for name in ("id_number", "phone", '"name"'):
        assert name.encode() not in raw


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("layer", ["households", "residents", "visits"])
def test_default_export_of_personal_layers_is_aggregate(
    town: TestDatabase, tmp_path: Path, personal_values: set[str], layer: str, fmt: Format
) -> None:
    path, result = export(town, tmp_path, ExportRequest(layer, fmt), ANALYST)
    assert result.privacy == "aggregate"
    with town.owner.connect() as conn:
        assert result.rows == conn.execute(text("SELECT count(*) FROM grids")).scalar()
    assert_no_personal_values(path, personal_values)


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("layer", ["households", "residents", "visits"])
def test_pseudonymous_exports_carry_no_names_id_numbers_or_phones(
    town: TestDatabase, tmp_path: Path, personal_values: set[str], layer: str, fmt: Format
) -> None:
    request = ExportRequest(layer, fmt, PrivacyLevel.PSEUDONYMOUS)
    path, result = export(town, tmp_path, request, ANALYST)
    assert result.privacy == "pseudonymous"
    assert_no_personal_values(path, personal_values)
    with town.owner.connect() as conn:
        ids = conn.execute(text(f"SELECT id::text FROM {layer}")).scalars().all()  # noqa: S608 (table names from a literal list in this test)
        sources = conn.execute(text(f"SELECT source_id FROM {layer} LIMIT 50")).scalars().all()  # noqa: S608 (table names from a literal list in this test)
    assert result.rows == len(ids)
    raw = path.read_bytes()
    assert not any(s.encode() in raw for s in sources)
    if fmt is Format.GEOJSON:
        published = {f["id"] for f in geojson_features(path)}
        assert all(isinstance(p, str) and len(p) == 20 for p in published)
        assert not published & set(ids)


def test_pseudonyms_are_keyed_and_link_layers(town: TestDatabase, tmp_path: Path) -> None:
    pseudo = PrivacyLevel.PSEUDONYMOUS
    households, _ = export(town, tmp_path, ExportRequest("households", privacy=pseudo), ANALYST)
    residents, _ = export(town, tmp_path, ExportRequest("residents", privacy=pseudo), ANALYST)
    household_ids = {f["id"] for f in geojson_features(households)}
    linked = {f["properties"]["household_id"] for f in geojson_features(residents)}
    assert linked <= household_ids
    other = tmp_path / "other"
    other.mkdir()
    again, _ = export(
        town, other, ExportRequest("households", privacy=pseudo), ANALYST, key=b"o" * 40
    )
    assert not household_ids & {f["id"] for f in geojson_features(again)}
    assert Pseudonyms(KEY)("household", 1) != Pseudonyms(b"x" * 40)("household", 1)
    assert KEY.decode() not in repr(Pseudonyms(KEY))


@pytest.mark.parametrize("level", [AggregateLevel.GRID, AggregateLevel.VILLAGE, AggregateLevel.HEX])
def test_small_counts_are_suppressed(
    town: TestDatabase, tmp_path: Path, level: AggregateLevel
) -> None:
    yesterday = datetime.now(TOWN_TIMEZONE).date() - timedelta(days=1)
    request = ExportRequest("residents", level=level, filters=Filters(as_of=yesterday))
    path, _ = export(town, tmp_path, request, ANALYST)
    counts = [
        v for f in geojson_features(path) for k, v in f["properties"].items()
        if k in {m.name for m in LAYERS["residents"].measures}
    ]  # fmt: skip
    assert counts
    assert all(v is None or (v >= SUPPRESS_BELOW and v % 5 == 0) for v in counts)
    assert any(v is None for v in counts)  # fevers per grid, small hexagons
    assert any(v is not None for v in counts)


def test_rights_per_role(town: TestDatabase, tmp_path: Path) -> None:
    with pytest.raises(ForbiddenError):
        export(town, tmp_path, ExportRequest("residents", privacy=PrivacyLevel.FULL), ANALYST)
    with pytest.raises(ForbiddenError):
        export(
            town, tmp_path, ExportRequest("residents", privacy=PrivacyLevel.PSEUDONYMOUS), PLANNER
        )
    worker = Principal(name="w", role=Role.GRID_WORKER, grid_ids=frozenset({1}))
    with pytest.raises(ForbiddenError):
        export(town, tmp_path, ExportRequest("households"), worker)
    _, result = export(town, tmp_path, ExportRequest("households"), PLANNER)
    assert result.privacy == "aggregate"


def test_scope_limits_rows(town: TestDatabase, tmp_path: Path) -> None:
    with town.owner.connect() as conn:
        grid_id, n = conn.execute(
            text("SELECT grid_id, count(*) FROM households GROUP BY 1 ORDER BY 1 LIMIT 1")
        ).one()
    commander = Principal(name="c", role=Role.ADMIN, grid_ids=frozenset({grid_id}))
    _, result = export(
        town, tmp_path, ExportRequest("households", privacy=PrivacyLevel.FULL), commander
    )
    assert result.rows == n


def test_filters_bbox_village_and_as_of(town: TestDatabase, tmp_path: Path) -> None:
    with town.owner.connect() as conn:
        code, w, s, e, n = conn.execute(
            text("SELECT code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
                 "FROM villages ORDER BY code LIMIT 1")
        ).one()  # fmt: skip
        day = conn.execute(text("SELECT min(visited_at)::date + 1 FROM visits")).scalar_one()
        before = conn.execute(
            text("SELECT count(*) FROM visits WHERE visited_at < :d + 1"), {"d": day}
        ).scalar_one()
    everything = export(town, tmp_path, ExportRequest("buildings"))[1].rows
    (tmp_path / "b").mkdir()
    in_box = export(
        town, tmp_path / "b", ExportRequest("buildings", filters=Filters(bbox=(w, s, e, n)))
    )
    (tmp_path / "v").mkdir()
    in_village = export(
        town, tmp_path / "v", ExportRequest("buildings", filters=Filters(village=code))
    )
    assert 0 < in_village[1].rows <= in_box[1].rows < everything
    visits = ExportRequest("visits", privacy=PrivacyLevel.FULL, filters=Filters(as_of=day))
    assert export(town, tmp_path, visits)[1].rows == before


def test_residents_as_of_keep_those_who_never_left(town: TestDatabase, tmp_path: Path) -> None:
    with town.owner.connect() as conn:
        day = conn.execute(text("SELECT min(returned_on) + 3 FROM residents")).scalar_one()
        expected, undated = conn.execute(
            text("SELECT count(*) FILTER (WHERE returned_on IS NULL OR returned_on <= :d),"
                 " count(*) FILTER (WHERE returned_on IS NULL) FROM residents"), {"d": day}
        ).one()  # fmt: skip
    assert undated > 0
    request = ExportRequest("residents", privacy=PrivacyLevel.FULL, filters=Filters(as_of=day))
    assert export(town, tmp_path, request)[1].rows == expected
    (tmp_path / "agg").mkdir()
    per_grid, _ = export(
        town, tmp_path / "agg", ExportRequest("residents", filters=request.filters)
    )
    with town.owner.connect() as conn:
        true: dict[str, int] = dict(
            conn.execute(
                text("SELECT g.code, count(r.id) FROM grids g LEFT JOIN residents r "
                     "ON r.grid_id = g.id AND (r.returned_on IS NULL OR r.returned_on <= :d) "
                     "GROUP BY g.code"), {"d": day}
            ).all()
        )  # fmt: skip
    for f in geojson_features(per_grid):
        published, count = f["properties"]["residents"], true[f["properties"]["grid"]]
        if count < SUPPRESS_BELOW:
            assert published is None
        elif published is not None:  # else hidden as the complement of a small grid
            assert published % 5 == 0
            assert abs(published - count) < 5


def test_entrances_as_of_replay_their_events(sample_conn: Connection, tmp_path: Path) -> None:
    """The state of each entrance at the end of the day, from entrance_events."""
    conn = sample_conn
    eid, state, since = conn.execute(
        text("SELECT id, state, since FROM entrances ORDER BY since, id LIMIT 1")
    ).one()
    changed = since + timedelta(days=3)
    other = "sealed" if state != "sealed" else "open"
    conn.execute(
        text("INSERT INTO entrance_events (entrance_id, at, from_state, to_state, user_name) "
             "VALUES (:e, :at, :f, :t, 'test')"),
        {"e": eid, "at": changed, "f": state, "t": other},
    )  # fmt: skip
    conn.execute(
        text("UPDATE entrances SET state = :t, since = :at WHERE id = :e"),
        {"e": eid, "at": changed, "t": other},
    )

    def as_of(day: date) -> dict[int, dict[str, Any]]:
        path = tmp_path / f"entrances-{day}.geojson"
        request = ExportRequest("entrances", filters=Filters(as_of=day))
        export_to_file(conn, ADMIN, request, path, pseudonym_key=lambda: KEY)
        return {f["id"]: f["properties"] for f in geojson_features(path)}

    before = as_of((since + timedelta(days=1)).astimezone(UTC).date())
    assert before[eid]["state"] == state
    assert datetime.fromisoformat(before[eid]["since"]) == since
    existing = conn.execute(
        text("SELECT count(DISTINCT entrance_id) FROM entrance_events WHERE at < :end"),
        {"end": datetime.combine(since.astimezone(UTC).date() + timedelta(days=2), time(), UTC)},
    ).scalar_one()
    assert len(before) == existing
    after = as_of((changed + timedelta(days=1)).astimezone(UTC).date())
    assert after[eid]["state"] == other
    assert datetime.fromisoformat(after[eid]["since"]) == changed
    now = as_of(datetime.now(UTC).date())
    assert len(now) == conn.execute(text("SELECT count(*) FROM entrances")).scalar_one()


def test_checkpoints_as_of_replay_their_events(sample_conn: Connection, tmp_path: Path) -> None:
    """A checkpoint closed now was active yesterday; one made today was not there."""
    conn = sample_conn
    closing, model = conn.execute(
        text("SELECT min(id), max(id) FROM checkpoints WHERE state = 'active'")
    ).one()
    today = datetime.now(TOWN_TIMEZONE)
    added = conn.execute(
        text(
            "INSERT INTO checkpoints (source_id, name, kind, state, staff_per_shift, radius_m,"
            " village_id, geom, created_at) SELECT 'test:made', 'made', kind, 'active',"
            " staff_per_shift, radius_m, village_id, geom, :made FROM checkpoints WHERE id = :m"
            " RETURNING id"
        ),
        {"made": today, "m": model},
    ).scalar_one()
    conn.execute(text("UPDATE checkpoints SET state = 'closed' WHERE id = :c"), {"c": closing})

    def as_of(day: date) -> dict[int, dict[str, Any]]:
        path = tmp_path / f"checkpoints-{day}.geojson"
        request = ExportRequest("checkpoints", filters=Filters(as_of=day))
        export_to_file(conn, ADMIN, request, path, pseudonym_key=lambda: KEY)
        return {f["id"]: f["properties"] for f in geojson_features(path)}

    yesterday, now = as_of(today.date() - timedelta(days=1)), as_of(today.date())
    assert yesterday[closing]["state"] == "active"
    assert now[closing]["state"] == "closed"
    assert added not in yesterday
    assert now[added]["state"] == "active"
    assert set(now) == set(yesterday) | {added}


def test_every_export_is_audited_without_values(town: TestDatabase, tmp_path: Path) -> None:
    export(
        town, tmp_path, ExportRequest("residents", Format.GPKG, PrivacyLevel.PSEUDONYMOUS), ANALYST
    )
    with town.owner.connect() as conn:
        event = rows_of(conn, "SELECT * FROM audit_events ORDER BY id DESC LIMIT 1")[0]
    assert event["actor"] == "analyst-1"
    assert event["action"] == "export"
    assert event["object_type"] == "residents"
    assert event["row_count"] > 1000
    assert event["detail"] == {"format": "gpkg", "privacy": "pseudonymous"}


def test_key_file_is_private(tmp_path: Path) -> None:
    key = load_key(tmp_path, environ={})
    assert (tmp_path / "export.key").stat().st_mode & 0o777 == 0o600
    assert load_key(tmp_path, environ={}) == key
    assert load_key(tmp_path, environ={"WANGGE_EXPORT_KEY": "e" * 32}) == b"e" * 32
    (tmp_path / "export.key").chmod(0o644)
    with pytest.raises(PseudonymKeyError):
        load_key(tmp_path, environ={})


def test_cli_export(town: TestDatabase, tmp_path: Path) -> None:
    env = {
        "WANGGE_DATABASE_URL": town.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": town.settings.admin_database_url or "",
        "WANGGE_USER": "",
        "WANGGE_EXPORT_KEY": "c" * 40,
    }
    out = tmp_path / "hex.fgb"
    result = CliRunner().invoke(
        main, ["export", "households", "--level", "hex", "-o", str(out), "--no-progress"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "(aggregate, per hex)" in result.output
    assert pyogrio.read_info(out)["features"] > 10
    bad = CliRunner().invoke(main, ["export", "nowhere", "-o", str(out)], env=env)
    assert bad.exit_code == 2
