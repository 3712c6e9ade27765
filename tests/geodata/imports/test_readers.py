"""Reading GeoJSON: every refused class of its text, whole and in chunks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely

from geodata.imports import geojson_text, readers
from geodata.imports.readers import read_layer
from geodata.imports.report import FileRefused, Issue, ReadOptions
from tests.geodata.imports.reader_support import (
    SQUARE,
    collection,
    feature,
    polygon,
    refused,
    write,
)

# --- GeoJSON text ------------------------------------------------------------------------------


def test_valid_geojson_reads_with_feature_index(tmp_path: Path) -> None:
    path = write(tmp_path, "a.geojson", json.dumps(collection(polygon(), polygon())))
    raw = read_layer(path, ReadOptions(), expect_geometry=True)
    assert raw.errors == []
    assert raw.row_label == "feature"
    assert raw.frame["__feature__"].tolist() == [0, 1]
    assert raw.frame.crs.to_epsg() == 4326
    assert raw.frame.geometry.geom_type.tolist() == ["Polygon", "Polygon"]


@pytest.mark.parametrize("odd", [None, {"type": "Point", "coordinates": [120.0, 31.0, 4.0]}])
def test_mixed_geometry_kinds_read_as_geos_reads_each(
    tmp_path: Path, odd: dict[str, Any] | None
) -> None:
    """Polygons, lines, points and multipolygons interleaved in one chunk (all plain, or with
    one 3-D point that sends the chunk feature by feature) each come out as GEOS reads it."""
    ring = [[120.0, 31.0], [120.01, 31.0], [120.01, 31.01], [120.0, 31.0]]
    hole = [[120.002, 31.001], [120.004, 31.001], [120.004, 31.003], [120.002, 31.001]]
    geometries: list[dict[str, Any]] = [
        {"type": "LineString", "coordinates": [[120.0, 31.0], [120.5, 31.5], [121, 31]]},
        {"type": "Polygon", "coordinates": [ring, hole]},
        {"type": "Point", "coordinates": [120.25, 31.25]},
        {"type": "LineString", "coordinates": [[121.0, 30.0], [121.1, 30.1]]},
        {"type": "MultiPolygon", "coordinates": [[SQUARE[0]], [ring]]},
        {"type": "Polygon", "coordinates": SQUARE},
    ]
    if odd is not None:
        geometries.append(odd)
    features = [feature(g, n=i) for i, g in enumerate(geometries)]
    path = write(tmp_path, "mixed.geojson", json.dumps(collection(*features)))
    raw = read_layer(path, ReadOptions(), expect_geometry=True)
    expected = [shapely.force_2d(shapely.from_geojson(json.dumps(g))) for g in geometries]
    assert raw.errors == []
    assert raw.frame["n"].tolist() == list(range(len(geometries)))
    assert all(shapely.equals_exact(raw.frame.geometry.array, expected, tolerance=0.0))


def test_bom_is_accepted(tmp_path: Path) -> None:
    body = json.dumps(collection(polygon())).encode()
    raw = read_layer(
        write(tmp_path, "bom.geojson", b"\xef\xbb\xbf" + body), ReadOptions(), expect_geometry=True
    )
    assert len(raw.frame) == 1
    assert raw.errors == []


@pytest.mark.parametrize(
    ("coordinates", "reason"),
    [
        ('[["120", "31"]]', "a coordinate is not a number (string coordinates are refused)"),
        ("[[120, NaN]]", "a coordinate is NaN or infinite"),
        ("[[Infinity, 31]]", "a coordinate is NaN or infinite"),
        ("[[1e400, 31]]", "a coordinate is NaN or infinite"),
        ("[[120, 31, 5, 7]]", "4-D positions (x, y, z, m) are refused"),
    ],
)
def test_bad_positions_are_reported_perfeature(
    tmp_path: Path, coordinates: str, reason: str
) -> None:
    good = json.dumps(feature({"type": "Point", "coordinates": [120, 31]}))
    bad = '{"type":"Feature","properties":{},"geometry":{"type":"MultiPoint","coordinates":%s}}'
    features = ",".join([good, bad % coordinates, good])
    text = '{"type":"FeatureCollection","features":[' + features + "]}"
    raw = read_layer(write(tmp_path, "p.geojson", text), ReadOptions(), expect_geometry=True)
    assert len(raw.errors) == 1
    issue = raw.errors[0]
    assert issue.reason.startswith(reason)
    assert (issue.feature, issue.field) == (1, "geometry")
    assert raw.frame.geometry.isna().tolist() == [False, True, False]


def test_every_failing_feature_is_reported(tmp_path: Path) -> None:
    features = [
        feature({"type": "Point", "coordinates": [120, 31]}),
        feature(None),
        feature({"type": "Hexagon", "coordinates": [120, 31]}),
        feature({"type": "Point", "coordinates": ["120", 31]}),
    ]
    path = write(tmp_path, "n.geojson", json.dumps(collection(*features)))
    raw = read_layer(path, ReadOptions(), expect_geometry=True)
    assert raw.errors == [
        Issue(reason="geometry is null", feature=1, field="geometry"),
        Issue(reason="unknown geometry type 'Hexagon'", feature=2, field="geometry"),
        Issue(
            reason="a coordinate is not a number (string coordinates are refused)",
            feature=3,
            field="geometry",
        ),
    ]


def test_null_geometry_is_fine_for_a_table(tmp_path: Path) -> None:
    path = write(tmp_path, "t.geojson", json.dumps(collection(feature(None, n=1))))
    assert read_layer(path, ReadOptions(), expect_geometry=False).errors == []


def test_3d_positions_are_dropped_with_a_warning(tmp_path: Path) -> None:
    ring = [[x, y, 12.5] for x, y in SQUARE[0]]
    features = [feature({"type": "Polygon", "coordinates": [ring]}), polygon()]
    raw = read_layer(
        write(tmp_path, "z.geojson", json.dumps(collection(*features))),
        ReadOptions(),
        expect_geometry=True,
    )
    assert raw.errors == []
    assert raw.warnings == ["1 features had 3-D positions: the third value was dropped"]
    assert not shapely.has_z(raw.frame.geometry.to_numpy()).any()


def test_nan_in_properties_is_reported_with_its_field(tmp_path: Path) -> None:
    text = json.dumps(collection(polygon(), polygon(props={"area": float("nan")})))
    raw = read_layer(write(tmp_path, "v.geojson", text), ReadOptions(), expect_geometry=True)
    assert raw.errors == [Issue(reason="a value is NaN or infinite", feature=1, field="area")]


def test_duplicate_keys_arerefused(tmp_path: Path) -> None:
    text = '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1,"a":2},'
    text += '"geometry":{"type":"Point","coordinates":[120,31]}}]}'
    assert refused(write(tmp_path, "d.geojson", text)) == "duplicate key 'a' in a JSON object"


@pytest.mark.parametrize(
    "members",
    [
        '"properties":{"n":{"deep":{"k":1,"k":1}}}',
        '"properties":{"n":1},"properties":{"n":1}',
        '"properties":{"a\\\\":1,"a\\\\":2}',
    ],
)
def test_duplicate_keys_anywhere_arerefused(tmp_path: Path, members: str) -> None:
    text = '{"type":"FeatureCollection","features":[{"type":"Feature",' + members
    text += ',"geometry":{"type":"Point","coordinates":[120,31]}}]}'
    assert refused(write(tmp_path, "d.geojson", text)).startswith("duplicate key ")


def test_colons_and_members_are_counted_outside_strings() -> None:
    found = geojson_text.scan(b'{"a:b": "x\\":[{", "c": {"d": [1, {"e": ":"}]}}')
    assert (found.depth, found.colons) == (4, 4)
    assert geojson_text.scan(b'{"k\\\\": {"j": ":"}}') == geojson_text.TextScan(depth=2, colons=2)


def test_unclosed_ring_is_named_by_geos(tmp_path: Path) -> None:
    ring = [[120.0, 31.0], [120.001, 31.0], [120.001, 31.001], [120.0, 31.001]]
    text = json.dumps(collection(polygon(), feature({"type": "Polygon", "coordinates": [ring]})))
    raw = read_layer(write(tmp_path, "u.geojson", text), ReadOptions(), expect_geometry=True)
    assert [(i.feature, i.reason.startswith("unreadable geometry: ")) for i in raw.errors] == [
        (1, True)
    ]
    assert raw.frame.geometry.iloc[0].is_valid


def test_deep_nesting_is_refused_before_parsing(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000  # would overflow a recursive parser
    text = '{"type":"FeatureCollection","features":[],"x":%s}' % deep  # noqa: UP031
    reason = refused(write(tmp_path, "deep.geojson", text))
    assert reason == "JSON nesting is 100001 levels deep, over the limit of 64"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert geojson_text.max_depth(b'{"a": "[[[[{{{\\"]]]", "b": [[1]]}') == 3


def test_legacy_crs_member_needs_confirmation(tmp_path: Path) -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}}
    ring = [[[400000, 3400000], [400100, 3400000], [400100, 3400100], [400000, 3400000]]]
    text = json.dumps(collection(feature({"type": "Polygon", "coordinates": ring}), crs=crs))
    path = write(tmp_path, "legacy.geojson", text)
    assert refused(path).startswith("legacy crs member names EPSG:32650")
    assert refused(path, ReadOptions(crs="EPSG:4547")) == (
        "--crs EPSG:4547 contradicts the file's legacy crs member (EPSG:32650)"
    )
    raw = read_layer(path, ReadOptions(crs="EPSG:32650"), expect_geometry=True)
    lon, lat = raw.frame.geometry.iloc[0].exterior.coords[0]
    assert 115.9 < lon < 116.0
    assert 30.6 < lat < 30.8


def test_crs_option_applies_to_geojson_without_crs_member(tmp_path: Path) -> None:
    point = feature({"type": "Point", "coordinates": [500000, 3500000]})
    path = write(tmp_path, "utm.geojson", json.dumps(collection(point)))
    raw = read_layer(path, ReadOptions(crs="EPSG:32650"), expect_geometry=True)
    assert raw.frame.geometry.iloc[0].x == pytest.approx(117.0)


def test_geojson_in_gbk_needs_an_encoding(tmp_path: Path) -> None:
    text = json.dumps(collection(polygon(props={"name": "肇庆"})), ensure_ascii=False)
    path = write(tmp_path, "gbk.geojson", text.encode("gbk"))
    assert refused(path) == ("the file is not UTF-8 text (likely GBK): pass --encoding gbk")
    raw = read_layer(path, ReadOptions(encoding="gbk"), expect_geometry=True)
    assert raw.frame["name"].tolist() == ["肇庆"]


# --- GeoJSON read in chunks --------------------------------------------------------------------


def test_chunks_read_as_the_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    features = [polygon(props={"n": i, "s": 'a "quoted" \\ [text] {x}: y'}) for i in range(7)]
    features[5] = feature({"type": "Polygon", "coordinates": [[[120, 31], [121, 31]]]}, n=5)
    path = write(tmp_path, "c.geojson", json.dumps(collection(*features), indent=1))
    whole = read_layer(path, ReadOptions(), expect_geometry=True)
    monkeypatch.setattr(geojson_text, "SCAN_BLOCK", 7)
    chunks = list(readers.read_chunks(path, ReadOptions(), expect_geometry=True, chunk_rows=3))
    assert [len(c.frame) for c in chunks] == [3, 3, 1]
    joined = readers.combine(chunks)
    assert joined.errors == whole.errors
    assert [e.feature for e in joined.errors] == [5]
    assert joined.frame.drop(columns="geometry").equals(whole.frame.drop(columns="geometry"))
    assert joined.frame.geometry.geom_equals(whole.frame.geometry).sum() == 6


def test_duplicate_key_in_a_later_chunk_isrefused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    body = ",".join(json.dumps(polygon(props={"n": i})) for i in range(5))
    body = body.replace('{"n": 4}', '{"n": 4, "n": 5}')
    text = '{"type": "FeatureCollection", "features": [' + body + "]}"
    assert refused(write(tmp_path, "d.geojson", text)) == "duplicate key 'n' in a JSON object"


def test_duplicate_top_level_key_is_refused_before_any_chunk(tmp_path: Path) -> None:
    text = json.dumps(collection(polygon()))[:-1] + ', "type": "FeatureCollection"}'
    with pytest.raises(FileRefused):
        readers.read_chunks(write(tmp_path, "t.geojson", text), ReadOptions(), expect_geometry=True)
