"""Coordinate systems of import files: the --crs option, a file's own CRS confirmed by it."""

from __future__ import annotations

import re
from pathlib import Path

from pyproj import CRS
from pyproj.exceptions import CRSError

from geodata.imports.files import refuse

WGS84 = CRS.from_epsg(4326)

_CRS_OPTION = re.compile(r"^(EPSG|ESRI|OGC|IGNF):[A-Za-z0-9_]+$")


def parse_crs_option(path: Path, crs: str | None) -> CRS | None:
    if crs is None:
        return None
    if not _CRS_OPTION.match(crs.strip()):
        raise refuse(path, f"--crs {crs[:40]!r} is not of the form EPSG:NNNN")
    try:
        return CRS.from_user_input(crs.strip())
    except CRSError:
        raise refuse(path, f"--crs {crs[:40]} is not a known coordinate system") from None


def same_crs(a: CRS, b: CRS) -> bool:
    if a.equals(b, ignore_axis_order=True):
        return True
    epsg_a = a.to_epsg(min_confidence=70)
    return epsg_a is not None and epsg_a == b.to_epsg(min_confidence=70)


def crs_label(crs: CRS) -> str:
    authority = crs.to_authority(min_confidence=70)
    return ":".join(authority) if authority else crs.name


def resolve_crs(path: Path, declared: CRS | None, given: CRS | None, *, where: str) -> CRS:
    """The file's own CRS, confirmed by --crs when both exist; --crs alone when it has none."""
    if declared is not None and given is not None and not same_crs(declared, given):
        raise refuse(
            path,
            f"--crs {crs_label(given)} contradicts the {where} ({crs_label(declared)})",
        )
    crs = declared or given
    if crs is None:
        raise refuse(path, f"no coordinate system: the {where} is missing; pass --crs EPSG:NNNN")
    return crs
