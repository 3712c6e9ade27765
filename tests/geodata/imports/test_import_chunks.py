"""A bad feature or a repeated key in the last chunk of a streamed file refuses the whole
file, and the bulk first load leaves the indexes and keys as they were."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import Connection, text

from geodata.db.stats import table_counts
from geodata.imports import load, readers
from geodata.imports.report import Layer, ReadOptions
from tests.geodata.imports.support import (
    BOWTIE,
    assert_refused,
    feature,
    polygon,
    run,
    square,
    write_geojson,
    write_text,
)


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
