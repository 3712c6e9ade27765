"""One export: check the right to it, read in the principal's scope, write, audit."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.disclosure.rules import (
    DisclosureError,
    check_hex_resolution,
    controlled,
    is_closed,
    town_today,
)
from geodata.errors import NotFoundError, WanggeError
from geodata.exports.filters import Filters
from geodata.exports.layers import COVERAGE, LAYERS
from geodata.exports.privacy import (
    DEFAULT_HEX_RESOLUTION,
    AggregateLevel,
    PrivacyLevel,
    Pseudonyms,
    RowView,
    require_level,
)
from geodata.exports.sql_source import FeatureSource, Shape


class Format(enum.StrEnum):
    GEOJSON = "geojson"
    GPKG = "gpkg"
    CSV = "csv"
    FGB = "fgb"


SUFFIXES = {
    Format.GEOJSON: ".geojson",
    Format.GPKG: ".gpkg",
    Format.CSV: ".csv",
    Format.FGB: ".fgb",
}
MEDIA_TYPES = {
    Format.GEOJSON: "application/geo+json",
    Format.GPKG: "application/geopackage+sqlite3",
    Format.CSV: "text/csv",
    Format.FGB: "application/flatgeobuf",
}
EXPORTABLE = (*LAYERS, COVERAGE)


class ExportError(WanggeError):
    """A request that cannot be exported as asked."""

    exit_code = 2


class ExportWriteError(WanggeError):
    """The file could not be written (a full disk, a file size limit): nothing is left under
    the name asked for."""


@dataclass(frozen=True)
class ExportRequest:
    layer: str
    fmt: Format = Format.GEOJSON
    privacy: PrivacyLevel | None = None
    """None: aggregate for personal layers (and coverage); public layers are as they are."""
    level: AggregateLevel = AggregateLevel.GRID
    filters: Filters = field(default_factory=Filters)
    hex_resolution: int = DEFAULT_HEX_RESOLUTION
    csv_lonlat: bool = False
    csv_bom: bool = False
    table_ids: bool = True
    """False: no `id` field (a file to be imported back, whose rows are keyed by source_id)."""


@dataclass(frozen=True)
class ExportResult:
    rows: int
    privacy: str
    level: str | None


def resolve_privacy(request: ExportRequest) -> PrivacyLevel | None:
    """The level the request gets: None for a public layer (nothing personal in it)."""
    if request.layer == COVERAGE:
        if request.privacy not in (None, PrivacyLevel.AGGREGATE):
            raise ExportError("coverage is published as aggregates only")
        return PrivacyLevel.AGGREGATE
    layer = LAYERS.get(request.layer)
    if layer is None:
        raise ExportError(f"no layer {request.layer!r}; one of: {', '.join(EXPORTABLE)}")
    if not layer.personal:
        return None
    return request.privacy or PrivacyLevel.AGGREGATE


def build_source(
    conn: Connection, request: ExportRequest, privacy: PrivacyLevel | None, principal: Principal
) -> FeatureSource:
    """The source of features for a request already allowed."""
    # Imported here: a command that exports buildings loads neither H3 nor the coverage model.
    from geodata.exports.sources import row_source

    if request.layer == COVERAGE:
        if request.level is AggregateLevel.HEX:
            raise ExportError("coverage is published per grid or per village, not per hexagon")
        from geodata.exports.coverage import CoverageSource

        return CoverageSource(principal=principal, level=request.level, filters=request.filters)
    layer = LAYERS[request.layer]
    if layer.name == "entrances" and request.filters.as_of is not None:
        from geodata.exports.entrances import entrances_as_of

        return entrances_as_of(conn, request.filters)
    if layer.name == "checkpoints" and request.filters.as_of is not None:
        from geodata.exports.checkpoints import checkpoints_as_of

        return checkpoints_as_of(request.filters)
    if privacy is None:
        return row_source(layer, RowView.FULL, request.filters)
    if privacy is PrivacyLevel.AGGREGATE:
        if request.level is AggregateLevel.HEX:
            check_hex_resolution(principal, request.hex_resolution)
            if controlled(principal) and not is_closed(request.filters.as_of or town_today()):
                raise DisclosureError(
                    "hexagons are published for closed days only: give as_of a day before "
                    "today (today is published per grid or village)"
                )
            from geodata.exports.hexagons import HexSource

            return HexSource(layer, request.filters, request.hex_resolution)
        from geodata.exports.aggregates import AggregateSource

        return AggregateSource(layer=layer, level=request.level, filters=request.filters)
    return row_source(layer, RowView(privacy.value), request.filters)


def prepare(conn: Connection, principal: Principal, request: ExportRequest) -> ExportRequest:
    """Check the right to the request, scope the transaction, fill in defaults."""
    privacy = resolve_privacy(request)
    require_level(principal, privacy or PrivacyLevel.AGGREGATE)
    apply_scope(conn, principal)
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
    filters = replace(request.filters, grid_ids=principal.grid_ids)
    if filters.village is not None:
        found = conn.execute(
            text("SELECT 1 FROM villages WHERE code = :c"), {"c": filters.village}
        ).scalar()
        if found is None:
            raise NotFoundError(f"no village {filters.village!r}")
    return replace(request, privacy=privacy, filters=filters)


def export_to_file(
    conn: Connection,
    principal: Principal,
    request: ExportRequest,
    path: Path,
    *,
    pseudonym_key: Callable[[], bytes],
    on_rows: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ExportResult:
    """Export in the caller's transaction (which the caller commits, audit row included)."""
    request = prepare(conn, principal, request)
    privacy = request.privacy
    source = build_source(conn, request, privacy, principal)
    pseudonyms = Pseudonyms(pseudonym_key()) if privacy is PrivacyLevel.PSEUDONYMOUS else None
    if on_total is not None:
        on_total(source.count(conn))
    rows = write_file(conn, request, source, pseudonyms, path, on_rows=on_rows)
    level = _aggregate_level(request, privacy)
    record_export(conn, principal, request, rows, privacy, level)
    return ExportResult(rows=rows, privacy=(privacy or "public"), level=level)


def write_file(
    conn: Connection,
    request: ExportRequest,
    source: FeatureSource,
    pseudonyms: Pseudonyms | None,
    path: Path,
    *,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Every row of `source` into `path`; the rows written. Written under a temporary name
    beside `path` and renamed when complete: a full disk never leaves a half-written file
    under the name asked for (nor removes an older one)."""
    partial = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        rows = _write(conn, request, source, pseudonyms, partial, on_rows=on_rows)
        partial.replace(path)
    except OSError as exc:
        raise ExportWriteError(
            f"could not write {path.name}: {exc.strerror or exc}; nothing was written under "
            "that name"
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
    return rows


def _write(
    conn: Connection,
    request: ExportRequest,
    source: FeatureSource,
    pseudonyms: Pseudonyms | None,
    path: Path,
    *,
    on_rows: Callable[[int], None] | None,
) -> int:
    """Every row of `source` into `path` in the request's format; the rows written."""
    if request.fmt is Format.GEOJSON:
        from geodata.exports.geojson import write_feature_collection

        with path.open("wb") as out:
            rows = write_feature_collection(source.features(conn, pseudonyms), out, on_rows=on_rows)
    elif request.fmt is Format.CSV:
        from geodata.exports.delimited import write_csv

        shape = Shape.LONLAT if request.csv_lonlat else Shape.WKT
        encoding = "utf-8-sig" if request.csv_bom else "utf-8"
        with path.open("w", encoding=encoding, newline="") as out:
            rows = write_csv(
                source.rows(conn, shape, pseudonyms),
                out,
                shape=shape,
                field_names=tuple(name for name, _ in source.fields),
                on_rows=on_rows,
                with_id=request.table_ids,
            )
    else:
        from geodata.exports.tabular import write_ogr

        rows = write_ogr(
            source.rows(conn, Shape.WKB, pseudonyms),
            path,
            fmt=request.fmt.value,
            layer=source.name,
            geometry_type=source.geometry_type,
            id_kind=source.published_id_kind,
            fields=source.fields,
            on_rows=on_rows,
            with_id=request.table_ids,
        )
    return rows


def _aggregate_level(request: ExportRequest, privacy: PrivacyLevel | None) -> str | None:
    return request.level.value if privacy is PrivacyLevel.AGGREGATE else None


def record_export(
    conn: Connection,
    principal: Principal,
    request: ExportRequest,
    rows: int,
    privacy: PrivacyLevel | None,
    level: str | None,
    *,
    action: str = "export",
) -> None:
    """The audit row: who, which layer, at what level, how many rows; never a value."""
    f = request.filters
    detail: dict[str, object] = {
        "format": request.fmt.value,
        "privacy": privacy.value if privacy else "public",
    }
    if level is not None:
        detail["level"] = level
    if f.bbox is not None:
        detail["bbox"] = list(f.bbox)
    if f.village is not None:
        detail["village"] = f.village
    if f.as_of is not None:
        detail["as_of"] = f.as_of.isoformat()
    audit.record(
        conn,
        actor=principal.name,
        action=action,
        object_type=request.layer,
        row_count=rows,
        detail=detail,
    )


def export_action(request_privacy: PrivacyLevel | None) -> Action:
    """The action a request needs at least (the CLI and the web check it first)."""
    return {
        None: Action.EXPORT_AGGREGATE,
        PrivacyLevel.AGGREGATE: Action.EXPORT_AGGREGATE,
        PrivacyLevel.PSEUDONYMOUS: Action.EXPORT_PSEUDONYMOUS,
        PrivacyLevel.FULL: Action.EXPORT_PERSONAL,
    }[request_privacy]
