"""Reading import files: every refused class, the Chinese datums, the real Chinese and OSM files."""

from __future__ import annotations

import json
import stat
import struct
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import Point, Polygon

from geodata.imports import datum, files, geojson_text, readers
from geodata.imports.readers import read_layer
from geodata.imports.report import Datum, FileRefused, Issue, ReadOptions
from tests.shared_data import SHARED_DATA

DATA = SHARED_DATA
ZHAOQING = DATA / "china" / "zhaoqing_compounds_gated.geojson"
SUZHOU = DATA / "china" / "suzhou_buildings_floors.geojson"
OSM_PBF = DATA / "osm" / "liechtenstein-2013-08-03.osm.pbf"
OSM_GPKG = DATA / "osm" / "liechtenstein-2013-08-03.gpkg"

SQUARE = [[[120.0, 31.0], [120.001, 31.0], [120.001, 31.001], [120.0, 31.001], [120.0, 31.0]]]


def _feature(geometry: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _collection(*features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", **extra, "features": list(features)}


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _polygon(*, props: dict[str, Any] | None = None) -> dict[str, Any]:
    return _feature({"type": "Polygon", "coordinates": SQUARE}, **(props or {"n": 1}))


def _refused(path: Path, options: ReadOptions | None = None, **kw: Any) -> str:
    with pytest.raises(FileRefused) as info:
        read_layer(path, options or ReadOptions(), expect_geometry=kw.pop("expect", True), **kw)
    return info.value.issues[0].reason


# --- GeoJSON text ------------------------------------------------------------------------------


def test_valid_geojson_reads_with_feature_index(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.geojson", json.dumps(_collection(_polygon(), _polygon())))
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
    features = [_feature(g, n=i) for i, g in enumerate(geometries)]
    path = _write(tmp_path, "mixed.geojson", json.dumps(_collection(*features)))
    raw = read_layer(path, ReadOptions(), expect_geometry=True)
    expected = [shapely.force_2d(shapely.from_geojson(json.dumps(g))) for g in geometries]
    assert raw.errors == []
    assert raw.frame["n"].tolist() == list(range(len(geometries)))
    assert all(shapely.equals_exact(raw.frame.geometry.array, expected, tolerance=0.0))


def test_bom_is_accepted(tmp_path: Path) -> None:
    body = json.dumps(_collection(_polygon())).encode()
    raw = read_layer(
        _write(tmp_path, "bom.geojson", b"\xef\xbb\xbf" + body), ReadOptions(), expect_geometry=True
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
def test_bad_positions_are_reported_per_feature(
    tmp_path: Path, coordinates: str, reason: str
) -> None:
    good = json.dumps(_feature({"type": "Point", "coordinates": [120, 31]}))
    bad = '{"type":"Feature","properties":{},"geometry":{"type":"MultiPoint","coordinates":%s}}'
    features = ",".join([good, bad % coordinates, good])
    text = '{"type":"FeatureCollection","features":[' + features + "]}"
    raw = read_layer(_write(tmp_path, "p.geojson", text), ReadOptions(), expect_geometry=True)
    assert len(raw.errors) == 1
    issue = raw.errors[0]
    assert issue.reason.startswith(reason)
    assert (issue.feature, issue.field) == (1, "geometry")
    assert raw.frame.geometry.isna().tolist() == [False, True, False]


def test_every_failing_feature_is_reported(tmp_path: Path) -> None:
    features = [
        _feature({"type": "Point", "coordinates": [120, 31]}),
        _feature(None),
        _feature({"type": "Hexagon", "coordinates": [120, 31]}),
        _feature({"type": "Point", "coordinates": ["120", 31]}),
    ]
    path = _write(tmp_path, "n.geojson", json.dumps(_collection(*features)))
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
    path = _write(tmp_path, "t.geojson", json.dumps(_collection(_feature(None, n=1))))
    assert read_layer(path, ReadOptions(), expect_geometry=False).errors == []


def test_3d_positions_are_dropped_with_a_warning(tmp_path: Path) -> None:
    ring = [[x, y, 12.5] for x, y in SQUARE[0]]
    features = [_feature({"type": "Polygon", "coordinates": [ring]}), _polygon()]
    raw = read_layer(
        _write(tmp_path, "z.geojson", json.dumps(_collection(*features))),
        ReadOptions(),
        expect_geometry=True,
    )
    assert raw.errors == []
    assert raw.warnings == ["1 features had 3-D positions: the third value was dropped"]
    assert not shapely.has_z(raw.frame.geometry.to_numpy()).any()


def test_nan_in_properties_is_reported_with_its_field(tmp_path: Path) -> None:
    text = json.dumps(_collection(_polygon(), _polygon(props={"area": float("nan")})))
    raw = read_layer(_write(tmp_path, "v.geojson", text), ReadOptions(), expect_geometry=True)
    assert raw.errors == [Issue(reason="a value is NaN or infinite", feature=1, field="area")]


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    text = '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1,"a":2},'
    text += '"geometry":{"type":"Point","coordinates":[120,31]}}]}'
    assert _refused(_write(tmp_path, "d.geojson", text)) == "duplicate key 'a' in a JSON object"


@pytest.mark.parametrize(
    "members",
    [
        '"properties":{"n":{"deep":{"k":1,"k":1}}}',
        '"properties":{"n":1},"properties":{"n":1}',
        '"properties":{"a\\\\":1,"a\\\\":2}',
    ],
)
def test_duplicate_keys_anywhere_are_refused(tmp_path: Path, members: str) -> None:
    text = '{"type":"FeatureCollection","features":[{"type":"Feature",' + members
    text += ',"geometry":{"type":"Point","coordinates":[120,31]}}]}'
    assert _refused(_write(tmp_path, "d.geojson", text)).startswith("duplicate key ")


def test_colons_and_members_are_counted_outside_strings() -> None:
    found = geojson_text.scan(b'{"a:b": "x\\":[{", "c": {"d": [1, {"e": ":"}]}}')
    assert (found.depth, found.colons) == (4, 4)
    assert geojson_text.scan(b'{"k\\\\": {"j": ":"}}') == geojson_text.TextScan(depth=2, colons=2)


def test_unclosed_ring_is_named_by_geos(tmp_path: Path) -> None:
    ring = [[120.0, 31.0], [120.001, 31.0], [120.001, 31.001], [120.0, 31.001]]
    text = json.dumps(_collection(_polygon(), _feature({"type": "Polygon", "coordinates": [ring]})))
    raw = read_layer(_write(tmp_path, "u.geojson", text), ReadOptions(), expect_geometry=True)
    assert [(i.feature, i.reason.startswith("unreadable geometry: ")) for i in raw.errors] == [
        (1, True)
    ]
    assert raw.frame.geometry.iloc[0].is_valid


def test_deep_nesting_is_refused_before_parsing(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000  # would overflow a recursive parser
    text = '{"type":"FeatureCollection","features":[],"x":%s}' % deep  # noqa: UP031
    reason = _refused(_write(tmp_path, "deep.geojson", text))
    assert reason == "JSON nesting is 100001 levels deep, over the limit of 64"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert geojson_text.max_depth(b'{"a": "[[[[{{{\\"]]]", "b": [[1]]}') == 3


def test_legacy_crs_member_needs_confirmation(tmp_path: Path) -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}}
    ring = [[[400000, 3400000], [400100, 3400000], [400100, 3400100], [400000, 3400000]]]
    text = json.dumps(_collection(_feature({"type": "Polygon", "coordinates": ring}), crs=crs))
    path = _write(tmp_path, "legacy.geojson", text)
    assert _refused(path).startswith("legacy crs member names EPSG:32650")
    assert _refused(path, ReadOptions(crs="EPSG:4547")) == (
        "--crs EPSG:4547 contradicts the file's legacy crs member (EPSG:32650)"
    )
    raw = read_layer(path, ReadOptions(crs="EPSG:32650"), expect_geometry=True)
    lon, lat = raw.frame.geometry.iloc[0].exterior.coords[0]
    assert 115.9 < lon < 116.0
    assert 30.6 < lat < 30.8


def test_crs_option_applies_to_geojson_without_crs_member(tmp_path: Path) -> None:
    point = _feature({"type": "Point", "coordinates": [500000, 3500000]})
    path = _write(tmp_path, "utm.geojson", json.dumps(_collection(point)))
    raw = read_layer(path, ReadOptions(crs="EPSG:32650"), expect_geometry=True)
    assert raw.frame.geometry.iloc[0].x == pytest.approx(117.0)


def test_geojson_in_gbk_needs_an_encoding(tmp_path: Path) -> None:
    text = json.dumps(_collection(_polygon(props={"name": "肇庆"})), ensure_ascii=False)
    path = _write(tmp_path, "gbk.geojson", text.encode("gbk"))
    assert _refused(path) == ("the file is not UTF-8 text (likely GBK): pass --encoding gbk")
    raw = read_layer(path, ReadOptions(encoding="gbk"), expect_geometry=True)
    assert raw.frame["name"].tolist() == ["肇庆"]


# --- file safety -------------------------------------------------------------------------------


def test_vrt_disguised_as_geojson_is_refused(tmp_path: Path) -> None:
    secret = _write(tmp_path, "secret.geojson", json.dumps(_collection(_polygon())))
    vrt = f'<OGRVRTDataSource><OGRVRTLayer name="s"><SrcDataSource>{secret}</SrcDataSource>'
    path = _write(tmp_path, "x.geojson", vrt + "</OGRVRTLayer></OGRVRTDataSource>")
    assert _refused(path) == (
        "disguised format: the name says GeoJSON but the content is not GeoJSON; refused"
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.gpkg", b"PK\x03\x04 not a geopackage"),
        ("x.zip", b"SQLite format 3\x00"),
        ("x.pbf", b"\x00\x00\x00\x0d\x0a\x09NOTHeader"),
        ("x.csv", b"<OGRVRTDataSource></OGRVRTDataSource>"),
        ("x.csv", b"lon,lat\x00\n"),
    ],
)
def test_disguised_formats_are_refused(tmp_path: Path, name: str, content: bytes) -> None:
    assert _refused(_write(tmp_path, name, content)).startswith("disguised format")


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    assert _refused(_write(tmp_path, "x.vrt", "<x/>")).startswith("unknown file extension '.vrt'")


def test_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.geojson", json.dumps(_collection(_polygon())))
    reason = _refused(path, ReadOptions(max_bytes=100))
    assert reason == f"the file is {path.stat().st_size} bytes, over the limit of 100 bytes"


# --- Shapefile zips ----------------------------------------------------------------------------


def _shapefile_zip(
    tmp_path: Path,
    *,
    names: list[str],
    encoding: str = "UTF-8",
    keep: tuple[str, ...] = (".shp", ".shx", ".dbf", ".prj", ".cpg"),
) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    frame = gpd.GeoDataFrame(
        {"name": names},
        geometry=[Point(120 + i / 1000, 31) for i in range(len(names))],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(frame, src / "towns.shp", encoding=encoding)
    path = tmp_path / "towns.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(src.iterdir()):
            if part.suffix in keep:
                zf.write(part, f"towns/{part.name}")
    return path


def test_shapefile_zip_reads(tmp_path: Path) -> None:
    raw = read_layer(
        _shapefile_zip(tmp_path, names=["东塘", "江口"]), ReadOptions(), expect_geometry=True
    )
    assert raw.frame["name"].tolist() == ["东塘", "江口"]
    assert raw.frame["__feature__"].tolist() == [0, 1]
    assert raw.frame.crs.to_epsg() == 4326


def test_shapefile_without_prj_needs_crs(tmp_path: Path) -> None:
    path = _shapefile_zip(tmp_path, names=["a"], keep=(".shp", ".shx", ".dbf", ".cpg"))
    assert _refused(path) == "the Shapefile has no .prj: pass --crs EPSG:NNNN"
    raw = read_layer(path, ReadOptions(crs="EPSG:4326"), expect_geometry=True)
    assert len(raw.frame) == 1


def test_gbk_dbf_without_cpg_is_refused_not_mojibake(tmp_path: Path) -> None:
    path = _shapefile_zip(
        tmp_path, names=["封开碧桂园"], encoding="GBK", keep=(".shp", ".shx", ".dbf", ".prj")
    )
    assert _refused(path) == (
        "the .dbf has no .cpg and its text is not UTF-8 (likely GBK): pass --encoding gbk"
    )
    raw = read_layer(path, ReadOptions(encoding="gbk"), expect_geometry=True)
    assert raw.frame["name"].tolist() == ["封开碧桂园"]


def _zip_with(tmp_path: Path, name: str, data: bytes, **info_kw: Any) -> Path:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(name)
        for key, value in info_kw.items():
            setattr(info, key, value)
        zf.writestr(info, data)
    return path


@pytest.mark.parametrize("name", ["../../etc/evil.shp", "/etc/evil.shp", "a/../../evil.shp"])
def test_zip_slip_is_refused(tmp_path: Path, name: str) -> None:
    reason = _refused(_zip_with(tmp_path, name, b"x"))
    assert reason == "zip slip: a member path is absolute or leaves the archive"


def test_zip_symlink_is_refused(tmp_path: Path) -> None:
    path = _zip_with(tmp_path, "a.shp", b"/etc/passwd", external_attr=(stat.S_IFLNK | 0o777) << 16)
    assert _refused(path) == "a zip member is a symbolic link"


def test_zip_bomb_is_refused_from_declared_sizes(tmp_path: Path) -> None:
    path = _zip_with(
        tmp_path, "a.dbf", b"\x00" * (20 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED
    )
    assert _refused(path) == "zip bomb: a member's compression ratio exceeds 100:1"
    reason = _refused(path, ReadOptions(max_bytes=10 * 1024 * 1024))
    assert reason == (
        "zip bomb: the declared uncompressed size exceeds the limit of 10485760 bytes"
    )


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_lon_lat_with_bom_and_per_line_errors(tmp_path: Path) -> None:
    text = "\ufeffname,lon,lat\n甲,120.1,31.2\n乙,abc,31.2\n丙,,\n丁,1e400,31\n"
    raw = read_layer(_write(tmp_path, "h.csv", text), ReadOptions(), expect_geometry=True)
    assert raw.row_label == "line"
    assert raw.frame["__line__"].tolist() == [2, 3, 4, 5]
    assert raw.frame["name"].tolist() == ["甲", "乙", "丙", "丁"]
    assert raw.errors == [
        Issue(reason="lon is not a number", line=3, field="lon"),
        Issue(reason="geometry is null", line=4, field="geometry"),
        Issue(reason="lon is not a number", line=5, field="lon"),
    ]
    assert raw.frame.geometry.iloc[0].equals(Point(120.1, 31.2))


def test_csv_wkt_and_quoted_newlines_keep_line_numbers(tmp_path: Path) -> None:
    text = 'id,note,wkt\n1,"two\nlines","POINT (120 31)"\n2,x,"POLYGON ((0 0, 1 0))"\n'
    raw = read_layer(_write(tmp_path, "w.csv", text), ReadOptions(), expect_geometry=True)
    assert raw.frame["__line__"].tolist() == [2, 4]
    assert raw.errors == [Issue(reason="not valid WKT", line=4, field="wkt")]
    assert "wkt" not in raw.frame.columns


def test_csv_in_gbk_needs_an_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.csv", "name,lon,lat\n江口街道,120,31\n".encode("gbk"))
    assert _refused(path) == "the file is not UTF-8 text (likely GBK): pass --encoding gbk"
    raw = read_layer(path, ReadOptions(encoding="gbk"), expect_geometry=True)
    assert raw.frame["name"].tolist() == ["江口街道"]


def test_csv_table_without_positions(tmp_path: Path) -> None:
    path = _write(tmp_path, "r.csv", "id,age\n1,30\n")
    raw = read_layer(path, ReadOptions(), expect_geometry=False)
    assert not raw.has_geometry
    assert raw.frame["age"].tolist() == ["30"]
    assert _refused(path).startswith("no position columns")


# --- datums ------------------------------------------------------------------------------------


def test_gcj02_published_control_points() -> None:
    # wandergis/coordtransform's published examples
    lon, lat = datum.wgs84_to_gcj02(116.404, 39.915)
    assert (lon[0], lat[0]) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-9)
    lon, lat = datum.gcj02_to_wgs84(116.41024449916938, 39.91640428150164)
    assert (lon[0], lat[0]) == pytest.approx((116.404, 39.915), abs=5e-6)
    gcj_lon, gcj_lat = datum.gcj02_to_wgs84(116.404, 39.915)  # sanity: inverse of a GCJ point
    bd_lon, bd_lat = datum.wgs84_to_bd09(gcj_lon, gcj_lat)
    assert (bd_lon[0], bd_lat[0]) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-9
    )


def _metres(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    return np.hypot((lon1 - lon2) * np.cos(np.radians(lat1)), lat1 - lat2) * 111_320.0


def test_round_trips_and_offset_size() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(98.0, 123.0, 1000)
    lat = rng.uniform(21.0, 45.0, 1000)
    glon, glat = datum.wgs84_to_gcj02(lon, lat)
    offset = _metres(lon, lat, glon, glat)
    # 100-700 m in most places; smaller near the transform's own zero lines.
    assert 100 < np.median(offset) < 700
    assert offset.max() < 700
    assert _metres(lon, lat, *datum.gcj02_to_wgs84(glon, glat)).max() < 0.5
    assert _metres(lon, lat, *datum.bd09_to_wgs84(*datum.wgs84_to_bd09(lon, lat))).max() < 0.5


def test_chinese_datum_outside_china_is_refused(tmp_path: Path) -> None:
    with pytest.raises(datum.OutsideChinaError):
        datum.gcj02_to_wgs84(9.52, 47.14)
    features = [
        _feature({"type": "Point", "coordinates": [9.52, 47.14]}),  # Vaduz, Liechtenstein
        _feature({"type": "Point", "coordinates": [120.6, 31.3]}),
    ]
    path = _write(tmp_path, "li.geojson", json.dumps(_collection(*features)))
    raw = read_layer(path, ReadOptions(datum=Datum.GCJ02), expect_geometry=True)
    assert raw.errors == [
        Issue(
            reason="outside China's extent: the gcj02 datum is defined only in China",
            feature=0,
            field="geometry",
        )
    ]
    assert raw.frame.geometry.iloc[0] is None
    lon, lat = datum.gcj02_to_wgs84(120.6, 31.3)
    assert raw.frame.geometry.iloc[1].coords[0] == pytest.approx((lon[0], lat[0]))


# --- the real files ----------------------------------------------------------------------------


def test_zhaoqing_compounds_legacy_crs_and_gcj02() -> None:
    reason = _refused(ZHAOQING)
    assert reason.startswith("legacy crs member names EPSG:32650")
    plain = read_layer(ZHAOQING, ReadOptions(crs="EPSG:32650"), expect_geometry=True)
    raw = read_layer(
        ZHAOQING, ReadOptions(crs="EPSG:32650", datum=Datum.GCJ02), expect_geometry=True
    )
    assert raw.errors == []
    assert len(raw.frame) == 1187
    assert raw.frame["name"].iloc[0] == "封开碧桂园"
    centres = shapely.centroid(raw.frame.geometry.to_numpy())
    lon, lat = shapely.get_x(centres), shapely.get_y(centres)
    # The whole prefecture, and most compounds in the city proper.
    assert ((lon > 111.3) & (lon < 113.0) & (lat > 22.7) & (lat < 24.5)).all()
    assert 112.3 < np.median(lon) < 112.8
    assert 22.9 < np.median(lat) < 23.3
    shift = _metres(
        lon,
        lat,
        shapely.get_x(shapely.centroid(plain.frame.geometry.to_numpy())),
        shapely.get_y(shapely.centroid(plain.frame.geometry.to_numpy())),
    )
    assert 400 < np.median(shift) < 700


def test_suzhou_buildings_land_in_suzhou() -> None:
    raw = read_layer(SUZHOU, ReadOptions(), expect_geometry=True)
    assert raw.errors == []
    assert len(raw.frame) == 3076
    minx, miny, maxx, maxy = raw.frame.total_bounds
    assert 120.5 < minx < maxx < 120.7
    assert 31.2 < miny < maxy < 31.4
    assert raw.frame["Floor"].between(1, 28).all()


def test_osm_pbf_layers() -> None:
    polygons = read_layer(OSM_PBF, ReadOptions(), expect_geometry=True, geometry_type="Polygon")
    assert len(polygons.frame) == 4104
    assert polygons.frame["building"].notna().sum() == 3723
    lines = read_layer(OSM_PBF, ReadOptions(layer_name="lines"), expect_geometry=True)
    assert len(lines.frame) == 3014
    assert (
        _refused(OSM_PBF)
        == "an OSM extract needs --layer points|lines|multilinestrings|multipolygons"
    )


def test_geopackage_layers() -> None:
    raw = read_layer(OSM_GPKG, ReadOptions(layer_name="buildings"), expect_geometry=True)
    assert len(raw.frame) == 3723
    assert raw.errors == []
    assert _refused(OSM_GPKG).startswith("the GeoPackage holds several layers (buildings, roads")
    assert _refused(OSM_GPKG, ReadOptions(layer_name="buildings", crs="EPSG:32632")) == (
        "--crs EPSG:32632 contradicts the GeoPackage's CRS (EPSG:4326)"
    )


def test_osm_pbf_is_known_by_its_header(tmp_path: Path) -> None:
    head = OSM_PBF.read_bytes()[: files.SNIFF_BYTES]
    assert files.is_osm_pbf(head)
    assert files.detect_format(_write(tmp_path, "town.pbf", head)) is files.FileFormat.OSM_PBF
    # A PBF whose first blob is data, not the header block; a header past the length limit.
    data_first = head[:4] + b"\x0a\x07OSMData" + head[15:]
    too_long = struct.pack(">I", 64 * 1024) + head[4:]
    for name, content in (("data.pbf", data_first), ("long.pbf", too_long)):
        assert not files.is_osm_pbf(content)
        assert _refused(_write(tmp_path, name, content)).startswith("disguised format: ")


def test_polygon_helper_is_read_back_as_written(tmp_path: Path) -> None:
    """The square every test here writes is a closed ring, read back with the same positions."""
    path = _write(tmp_path, "square.geojson", json.dumps(_collection(_polygon())))
    raw = read_layer(path, ReadOptions(), expect_geometry=True)
    assert raw.errors == []
    (read,) = raw.frame.geometry
    assert read.is_valid
    assert read.exterior.is_closed
    assert [list(p) for p in read.exterior.coords] == SQUARE[0]
    assert read.equals(Polygon(SQUARE[0]))


# --- GeoJSON read in chunks --------------------------------------------------------------------


def test_chunks_read_as_the_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    features = [_polygon(props={"n": i, "s": 'a "quoted" \\ [text] {x}: y'}) for i in range(7)]
    features[5] = _feature({"type": "Polygon", "coordinates": [[[120, 31], [121, 31]]]}, n=5)
    path = _write(tmp_path, "c.geojson", json.dumps(_collection(*features), indent=1))
    whole = read_layer(path, ReadOptions(), expect_geometry=True)
    monkeypatch.setattr(geojson_text, "SCAN_BLOCK", 7)
    chunks = list(readers.read_chunks(path, ReadOptions(), expect_geometry=True, chunk_rows=3))
    assert [len(c.frame) for c in chunks] == [3, 3, 1]
    joined = readers.combine(chunks)
    assert joined.errors == whole.errors
    assert [e.feature for e in joined.errors] == [5]
    assert joined.frame.drop(columns="geometry").equals(whole.frame.drop(columns="geometry"))
    assert joined.frame.geometry.geom_equals(whole.frame.geometry).sum() == 6


def test_duplicate_key_in_a_later_chunk_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    body = ",".join(json.dumps(_polygon(props={"n": i})) for i in range(5))
    body = body.replace('{"n": 4}', '{"n": 4, "n": 5}')
    text = '{"type": "FeatureCollection", "features": [' + body + "]}"
    assert _refused(_write(tmp_path, "d.geojson", text)) == "duplicate key 'n' in a JSON object"


def test_duplicate_top_level_key_is_refused_before_any_chunk(tmp_path: Path) -> None:
    text = json.dumps(_collection(_polygon()))[:-1] + ', "type": "FeatureCollection"}'
    with pytest.raises(FileRefused):
        readers.read_chunks(
            _write(tmp_path, "t.geojson", text), ReadOptions(), expect_geometry=True
        )
