"""GDAL (through pyogrio) for the formats that need it: no network, driver checked, quiet."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import ModuleType

import geopandas as gpd

from geodata.imports.files import refuse

_GDAL_CONFIG = {
    # No network: nothing a file names may be fetched.
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".wangge-no-network",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    # Takes effect where drivers are registered again; the pinned prefixes and the content
    # sniffing are what keep the VRT drivers away from these files.
    "GDAL_SKIP": "VRT OGR_VRT",
}


def configure_gdal() -> ModuleType:
    """Process-wide GDAL settings for reading untrusted files; pyogrio, loaded on first use
    (a GeoJSON file is read without GDAL)."""
    import pyogrio

    pyogrio.set_gdal_config_options(_GDAL_CONFIG)
    module: ModuleType = pyogrio
    return module


def gdal_read(
    path: Path, source: str, *, layer: str | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Read with GDAL; its warnings are dropped (the checks here report the problems)."""
    pyogrio = configure_gdal()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pyogrio.read_dataframe(
                source, layer=layer, encoding=encoding, use_arrow=True, on_invalid="ignore"
            )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as e:
        raise refuse(path, f"the file cannot be read: {str(e)[:160]}") from None
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)))
    return frame


def check_driver(path: Path, source: str, expected: str) -> None:
    pyogrio = configure_gdal()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        driver = pyogrio.read_info(source)["driver"]
    if driver != expected:
        raise refuse(path, f"disguised format: GDAL sees {driver}, not {expected}")


def layer_names(source: str) -> list[str]:
    pyogrio = configure_gdal()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [str(name) for name, _ in pyogrio.list_layers(source)]
