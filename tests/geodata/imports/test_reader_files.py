"""Reading import files safely: disguised formats, sizes, zipped Shapefiles (slips, links,
bombs) and CSV."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from geodata.imports.readers import read_layer
from geodata.imports.report import Issue, ReadOptions
from tests.geodata.imports.reader_support import (
    collection,
    polygon,
    refused,
    write,
)

# --- file safety -------------------------------------------------------------------------------


def test_vrt_disguised_as_geojson_isrefused(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.geojson", json.dumps(collection(polygon())))
    vrt = f'<OGRVRTDataSource><OGRVRTLayer name="s"><SrcDataSource>{secret}</SrcDataSource>'
    path = write(tmp_path, "x.geojson", vrt + "</OGRVRTLayer></OGRVRTDataSource>")
    assert refused(path) == (
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
def test_disguised_formats_arerefused(tmp_path: Path, name: str, content: bytes) -> None:
    assert refused(write(tmp_path, name, content)).startswith("disguised format")


def test_unknown_extension_isrefused(tmp_path: Path) -> None:
    assert refused(write(tmp_path, "x.vrt", "<x/>")).startswith("unknown file extension '.vrt'")


def test_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "big.geojson", json.dumps(collection(polygon())))
    reason = refused(path, ReadOptions(max_bytes=100))
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
    assert refused(path) == "the Shapefile has no .prj: pass --crs EPSG:NNNN"
    raw = read_layer(path, ReadOptions(crs="EPSG:4326"), expect_geometry=True)
    assert len(raw.frame) == 1


def test_gbk_dbf_without_cpg_is_refused_not_mojibake(tmp_path: Path) -> None:
    path = _shapefile_zip(
        tmp_path, names=["封开碧桂园"], encoding="GBK", keep=(".shp", ".shx", ".dbf", ".prj")
    )
    assert refused(path) == (
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
def test_zip_slip_isrefused(tmp_path: Path, name: str) -> None:
    reason = refused(_zip_with(tmp_path, name, b"x"))
    assert reason == "zip slip: a member path is absolute or leaves the archive"


def test_zip_symlink_isrefused(tmp_path: Path) -> None:
    path = _zip_with(tmp_path, "a.shp", b"/etc/passwd", external_attr=(stat.S_IFLNK | 0o777) << 16)
    assert refused(path) == "a zip member is a symbolic link"


def test_zip_bomb_is_refused_from_declared_sizes(tmp_path: Path) -> None:
    path = _zip_with(
        tmp_path, "a.dbf", b"\x00" * (20 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED
    )
    assert refused(path) == "zip bomb: a member's compression ratio exceeds 100:1"
    reason = refused(path, ReadOptions(max_bytes=10 * 1024 * 1024))
    assert reason == (
        "zip bomb: the declared uncompressed size exceeds the limit of 10485760 bytes"
    )


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_lon_lat_with_bom_and_per_line_errors(tmp_path: Path) -> None:
    text = "\ufeffname,lon,lat\n甲,120.1,31.2\n乙,abc,31.2\n丙,,\n丁,1e400,31\n"
    raw = read_layer(write(tmp_path, "h.csv", text), ReadOptions(), expect_geometry=True)
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
    raw = read_layer(write(tmp_path, "w.csv", text), ReadOptions(), expect_geometry=True)
    assert raw.frame["__line__"].tolist() == [2, 4]
    assert raw.errors == [Issue(reason="not valid WKT", line=4, field="wkt")]
    assert "wkt" not in raw.frame.columns


def test_csv_in_gbk_needs_an_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "g.csv", "name,lon,lat\n江口街道,120,31\n".encode("gbk"))
    assert refused(path) == "the file is not UTF-8 text (likely GBK): pass --encoding gbk"
    raw = read_layer(path, ReadOptions(encoding="gbk"), expect_geometry=True)
    assert raw.frame["name"].tolist() == ["江口街道"]


def test_csv_table_without_positions(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "id,age\n1,30\n")
    raw = read_layer(path, ReadOptions(), expect_geometry=False)
    assert not raw.has_geometry
    assert raw.frame["age"].tolist() == ["30"]
    assert refused(path).startswith("no position columns")
