"""Shapefiles (zipped, or the .shp beside its parts), read by GDAL's driver: .prj and .dbf
encoding checked."""

from __future__ import annotations

from pathlib import Path

from pyproj import CRS

from geodata.imports import files
from geodata.imports.files import FileFormat, refuse
from geodata.imports.readers.crs import resolve_crs
from geodata.imports.readers.finish import Read
from geodata.imports.readers.gdal import check_driver, gdal_read
from geodata.imports.report import ReadOptions


def read_shapefile(
    path: Path, fmt: FileFormat, options: ReadOptions, given: CRS | None, workdir: Path
) -> Read:
    if fmt is FileFormat.SHAPEFILE_ZIP:
        parts = files.extract_shapefile(
            path, workdir, max_bytes=options.max_bytes, layer_name=options.layer_name
        )
    else:
        parts = files.copy_shapefile(path, workdir, max_bytes=options.max_bytes)
    if not parts.has_prj and given is None:
        raise refuse(path, "the Shapefile has no .prj: pass --crs EPSG:NNNN")
    encoding = files.dbf_encoding(
        parts.shp.with_suffix(".dbf"),
        cpg=parts.shp.with_suffix(".cpg") if parts.has_cpg else None,
        given=options.encoding,
        source=path,
    )
    check_driver(path, str(parts.shp), "ESRI Shapefile")
    frame = gdal_read(path, str(parts.shp), encoding=encoding)
    declared = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    if parts.has_prj and declared is None:
        raise refuse(path, "the .prj names no coordinate system GDAL understands: pass --crs")
    return Read(path, frame, resolve_crs(path, declared, given, where="Shapefile's .prj"))
