"""One import from file to table in a savepoint: each chunk read, validated and copied (COPY) into
the staging table, or straight into an empty table; then the upsert by source id."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, ProgrammingError
from tqdm import tqdm

from geodata.imports import osm
from geodata.imports.copy_in import CopyStream
from geodata.imports.geojson_parse import paused_gc
from geodata.imports.layers import LAYERS, GeometryKind, LayerSpec
from geodata.imports.readers import read_chunks
from geodata.imports.report import (
    FileRefused,
    ImportReport,
    Issue,
    Layer,
    RawLayer,
    ReadOptions,
    merge_warnings,
)
from geodata.imports.staging import STAGE, create_stage
from geodata.imports.upsert import audit_import, load_staged
from geodata.imports.validate import Validator

PROGRESS_BYTES = 4 * 1024 * 1024
"""Files at least this large show a progress bar (when asked for)."""
_OSM_TYPES: dict[GeometryKind | None, str] = {
    GeometryKind.POLYGON: "Polygon",
    GeometryKind.MULTIPOLYGON: "Polygon",
    GeometryKind.LINESTRING: "LineString",
    GeometryKind.POINT: "Point",
}
"""Which layer of an OpenStreetMap extract a layer reads."""
STEPS = ("read", "validate", "stage", "upsert", "derive")
BULK_ROWS = 10_000
"""A file whose first chunk holds this many rows, copied into an empty table, has the table's
plain indexes built once at the end instead of row by row."""


class Reader(Protocol):
    """What reads a file (`geodata.imports.readers.read_layer`, or a test's stand-in)."""

    def __call__(
        self,
        path: Path,
        options: ReadOptions,
        *,
        expect_geometry: bool,
        geometry_type: str | None = None,
    ) -> RawLayer: ...


def import_file(
    conn: Connection,
    layer: Layer,
    path: Path,
    options: ReadOptions,
    *,
    repair: bool,
    dry_run: bool,
    actor: str,
    progress: bool = False,
    reader: Reader | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import one file into `layer`'s table inside the caller's transaction (never commits).

    A refused file (report.errors not empty) changes nothing. A clean one is upserted by
    source id: new rows inserted, changed rows updated (version + 1, updated_at), equal rows
    left untouched; then one audit event (counts only). `dry_run` does everything but keep it.
    With `skip_invalid`, features whose geometry cannot be read or repaired are left out and
    listed under `report.skipped`; the rest loads all or nothing.
    """
    spec = LAYERS[layer]
    report = ImportReport(layer=layer.value, file=path.name, dry_run=dry_run)
    show = progress and path.is_file() and path.stat().st_size >= PROGRESS_BYTES
    with tqdm(
        total=len(STEPS), desc=f"import {layer.value}", file=sys.stderr, disable=not show
    ) as bar:
        bar.set_postfix_str("read")
        geometry_type = _OSM_TYPES.get(spec.geometry)
        expect_geometry = spec.geometry is not None
        try:
            if reader is not None:
                chunks: Iterator[RawLayer] = iter(
                    [
                        reader(
                            path,
                            options,
                            expect_geometry=expect_geometry,
                            geometry_type=geometry_type,
                        )
                    ]
                )
            else:
                chunks = read_chunks(
                    path, options, expect_geometry=expect_geometry, geometry_type=geometry_type
                )
        except FileRefused as refused:
            report.errors = list(refused.issues)
            return report
        savepoint = conn.begin_nested()
        try:
            # Each chunk's parsed features (a million containers) are freed by reference
            # counting; the cyclic collector would only walk them again and again.
            with paused_gc():
                rows, row_kind, direct = _stage(
                    conn, spec, chunks, report, options, repair=repair, bar=bar,
                    skip_invalid=skip_invalid,
                )  # fmt: skip
            if report.errors:
                issues = report.errors
            elif direct:
                report.inserted = rows
                audit_import(conn, spec, report, actor=actor, rows=rows, followed={})
                issues = []
            else:
                issues = load_staged(
                    conn, spec, rows, report, row_kind=row_kind, actor=actor, bar=bar
                )
        except FileRefused as refused:
            savepoint.rollback()
            report.errors = list(refused.issues)
            _reset_counts(report)
            return report
        except (IntegrityError, psycopg.IntegrityError) as exc:
            savepoint.rollback()
            report.errors = [Issue(reason=f"the database refused the rows: {_constraint(exc)}")]
            _reset_counts(report)
            return report
        except BaseException:
            savepoint.rollback()
            raise
        if issues or dry_run:
            savepoint.rollback()
            report.errors = issues
            if issues:
                _reset_counts(report)
        else:
            savepoint.commit()
    return report


def _stage(
    conn: Connection,
    spec: LayerSpec,
    chunks: Iterator[RawLayer],
    report: ImportReport,
    options: ReadOptions,
    *,
    repair: bool,
    bar: tqdm[Any],
    skip_invalid: bool = False,
) -> tuple[int, str, bool]:
    """Read, check and COPY every chunk into the staging table (or, when `_direct`, straight
    into the layer's table); the rows read, their kind, and whether they went straight in.

    Every problem of every chunk is collected into `report.errors`; once there is one, the
    remaining chunks are still checked but no longer copied.
    """
    layer = spec.layer
    direct = _direct(conn, spec)
    validator = Validator(
        conn, spec, id_field=options.id_field, repair=repair, skip_invalid=skip_invalid
    )
    read_errors: list[Issue] = []
    read_warnings: list[str] = []
    check_warnings: list[str] = []
    osm_file: bool | None = None
    copier: CopyStream | None = None
    deferred: list[str] | None = None
    rows = 0
    try:
        for raw in chunks:
            if osm_file is None:
                osm_file = osm.applies(layer, raw, id_field=options.id_field)
            if osm_file:
                raw = osm.adapt(layer, raw)
            read_warnings.extend(raw.warnings)
            checked = validator.chunk(raw)  # may take skipped features out of raw.errors
            read_errors.extend(raw.errors)
            check_warnings.extend(checked.warnings)
            report.repaired.extend(checked.repaired)
            report.skipped.extend(checked.skipped)
            if copier is None:
                if direct:
                    frame_columns = set(checked.frame.columns)
                    columns = ["source_id", *(c for c in spec.columns if c in frame_columns)]
                else:
                    columns = create_stage(conn, spec, checked.frame)
                copier = CopyStream(conn, spec.table if direct else STAGE, columns)
                validator.pause = copier.close
            if not read_errors and not validator.failed:
                if direct and deferred is None:
                    bulk = len(raw.frame) >= BULK_ROWS
                    deferred = _defer_indexes(conn, spec.table) if bulk else []
                copier.write(checked.frame)
            rows += len(checked.frame)
            bar.set_postfix_str(f"read and check {rows:,} rows")
        if copier is not None:
            copier.close()
    except BaseException:
        if copier is not None:
            copier.abort()
        raise
    issues, file_warnings = validator.finish()
    if deferred and not read_errors and not issues:
        bar.set_postfix_str("build indexes")
        for definition in deferred:
            conn.execute(text(definition))
    report.warnings.extend(
        [*merge_warnings(read_warnings), *file_warnings, *merge_warnings(check_warnings)]
    )
    report.errors = [*read_errors, *issues]
    bar.update(3)
    return rows, validator.kind, direct


def _reset_counts(report: ImportReport) -> None:
    report.inserted = report.updated = report.unchanged = 0


def _constraint(exc: IntegrityError | psycopg.IntegrityError) -> str:
    error = exc.orig if isinstance(exc, IntegrityError) else exc
    diag = getattr(error, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name == "shift_staff_no_overlap":
        return f"constraint {name}: a person would be on two overlapping shifts"
    return f"constraint {name}" if name else type(error).__name__


def _direct(conn: Connection, spec: LayerSpec) -> bool:
    """True when the rows can be copied straight into the layer's table as they are checked:
    it is empty, and nothing is derived from other rows (links found by geometry, followed
    columns, entrance events). Inside the import's transaction, a refused file is undone."""
    if spec.layer is Layer.ENTRANCES or spec.follows or spec.staged:
        return False
    if any(link.required for link in spec.spatial):
        return False
    for table in (spec.table, *(link.table for link in spec.spatial)):
        if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar():  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            return False
    return True


def _defer_indexes(conn: Connection, table: str) -> list[str]:
    """Drop the plain indexes (none that backs a constraint) and the foreign keys of an empty
    table, to build each index once and check each key by one join after a bulk COPY instead
    of row by row; the statements that put them back. Dropping them locks the table until the
    import's transaction ends; a role that may not drop them keeps them."""
    indexes = conn.execute(
        text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisunique "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        ),
        {"t": table},
    ).all()
    keys = conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"
        ),
        {"t": table},
    ).all()
    if not indexes and not keys:
        return []
    try:
        with conn.begin_nested():
            for name, _ in indexes:
                conn.execute(text(f"DROP INDEX {name}"))
            for name, _ in keys:
                conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
    except (ProgrammingError, psycopg.errors.InsufficientPrivilege):
        return []
    return [
        *(str(definition) for _, definition in indexes),
        *(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}" for name, definition in keys),
    ]
