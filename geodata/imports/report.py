"""What an import hands between its stages, and the report it ends with."""

from __future__ import annotations

import enum
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from geodata.errors import WanggeError


class Layer(enum.StrEnum):
    VILLAGES = "villages"
    GRIDS = "grids"
    COMPOUNDS = "compounds"
    BUILDINGS = "buildings"
    ROADS = "roads"
    ENTRANCES = "entrances"
    CHECKPOINTS = "checkpoints"
    PATROL_ZONES = "patrol-zones"
    ISOLATION_SITES = "isolation-sites"
    HOUSEHOLDS = "households"
    RESIDENTS = "residents"
    VISITS = "visits"
    TEAMS = "teams"
    STAFF = "staff"
    SHIFTS = "shifts"
    SHIFT_STAFF = "shift-staff"


class Datum(enum.StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


@dataclass(frozen=True)
class Issue:
    """One problem of one feature or row: where, which field, why.

    `feature` is the 0-based feature index (GeoJSON, GeoPackage, Shapefile, PBF); `line` the
    1-based line of a CSV file (header = line 1). Either may be None for a file-level problem.
    """

    reason: str
    feature: int | None = None
    line: int | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class ReadOptions:
    """What the person said about the file on the command line or the upload form."""

    crs: str | None = None
    """e.g. 'EPSG:32650': the coordinate system of the file (confirms a legacy crs member)."""
    datum: Datum = Datum.WGS84
    """gcj02 / bd09: positions copied from Chinese consumer maps, converted to WGS84."""
    encoding: str | None = None
    layer_name: str | None = None
    id_field: str | None = None
    max_bytes: int = 512 * 1024 * 1024


@dataclass
class RawLayer:
    """A file read into memory: geometry in EPSG:4326 (None for tables without geometry).

    `frame` keeps the file's own attribute columns (names as in the file) and a column
    `__feature__` (0-based feature index) or `__line__` (CSV line) for reporting.
    """

    path: Path
    frame: gpd.GeoDataFrame
    has_geometry: bool
    row_label: str = "feature"  # or "line"
    warnings: list[str] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)


class FileRefused(WanggeError):  # noqa: N818 - reads as the outcome the person sees
    """The whole file is refused (exit code 1): unsafe, unreadable, or rows that fail."""

    def __init__(self, path: Path | str, issues: list[Issue]) -> None:
        self.path = str(path)
        self.issues = issues
        first = issues[0].reason if issues else "refused"
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"{self.path}: {first}{more}")


@dataclass
class ImportReport:
    layer: str
    file: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repaired: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    """Features left out by `--skip-invalid`, each with its feature (or line) and reason."""
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "file": self.file,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": list(self.warnings),
            "repaired": list(self.repaired),
            "skipped": list(self.skipped),
            "dry_run": self.dry_run,
        }


_COUNTED = re.compile(r"^(\d+) (.+)$", re.DOTALL)


def merge_warnings(warnings: list[str]) -> list[str]:
    """Warnings of several chunks of one file as one list: those that start with a count and
    say the same after it are added up ("3 polygons had ..." + "2 polygons had ..." is
    "5 polygons had ..."); others are kept once, in the order first seen."""
    counts: dict[str, int] = {}
    order: list[str] = []
    for w in warnings:
        m = _COUNTED.match(w)
        key, n = (m.group(2), int(m.group(1))) if m else (w, 0)
        if key not in counts:
            order.append(key)
            counts[key] = 0
        counts[key] += n
        if not m:
            counts[key] = -1
    return [k if counts[k] < 0 else f"{counts[k]} {k}" for k in order]
