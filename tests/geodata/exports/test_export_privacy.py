"""Exports and privacy: levels (no personal value in aggregate or pseudonymous output),
suppression, rights, scope, filters and as-of, audit, the key and the CLI."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, text

from geodata.auth.access import ForbiddenError, Principal
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
from geodata.exports.run import ExportRequest, Format, export_to_file
from geodata.town_time import TOWN_TIMEZONE
from geodata.vocab import Role
from tests.conftest import TestDatabase
from tests.geodata.exports.support import (
    ADMIN,
    ANALYST,
    KEY,
    PLANNER,
    export,
    geojson_features,
    rows_of,
)


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
