"""GeoPackage, read by GDAL's GPKG driver alone: one layer, its CRS confirmed by --crs."""

from __future__ import annotations

from pathlib import Path

from pyproj import CRS

from geodata.imports.files import refuse
from geodata.imports.readers.crs import resolve_crs
from geodata.imports.readers.finish import Read
from geodata.imports.readers.gdal import gdal_read, layer_names
from geodata.imports.report import ReadOptions


def read_geopackage(path: Path, options: ReadOptions, given: CRS | None) -> Read:
    source = f"GPKG:{path}"
    names = layer_names(source)
    if options.layer_name is not None:
        if options.layer_name not in names:
            raise refuse(
                path, f"no layer {options.layer_name[:60]!r}: the file holds {', '.join(names)}"
            )
        layer = options.layer_name
    elif len(names) == 1:
        layer = names[0]
    else:
        raise refuse(
            path, f"the GeoPackage holds several layers ({', '.join(names)}): pass --layer"
        )
    frame = gdal_read(path, source, layer=layer)
    declared = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    return Read(path, frame, resolve_crs(path, declared, given, where="GeoPackage's CRS"))
