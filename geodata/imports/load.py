"""One import from file to table: read, validate, stage (COPY), upsert by source id."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, ProgrammingError
from tqdm import tqdm

from geodata.auth import audit
from geodata.imports import osm
from geodata.imports.copy_in import CopyStream
from geodata.imports.geojson_parse import paused_gc
from geodata.imports.layers import CASCADES, LAYERS, SQL_TYPES, GeometryKind, LayerSpec, SpatialLink
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
from geodata.imports.validate import ROW, Validator

STAGE = "import_stage"
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
) -> ImportReport:
    """Import one file into `layer`'s table inside the caller's transaction (never commits).

    A refused file (report.errors not empty) changes nothing. A clean one is upserted by
    source id: new rows inserted, changed rows updated (version + 1, updated_at), equal rows
    left untouched; then one audit event (counts only). `dry_run` does everything but keep it.
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
                    conn, spec, chunks, report, options, repair=repair, bar=bar
                )
            if report.errors:
                issues = report.errors
            elif direct:
                report.inserted = rows
                _audit(conn, spec, report, actor=actor, rows=rows, followed={})
                issues = []
            else:
                issues = _load(conn, spec, rows, report, row_kind=row_kind, actor=actor, bar=bar)
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
) -> tuple[int, str, bool]:
    """Read, check and COPY every chunk into the staging table (or, when `_direct`, straight
    into the layer's table); the rows read, their kind, and whether they went straight in.

    Every problem of every chunk is collected into `report.errors`; once there is one, the
    remaining chunks are still checked but no longer copied.
    """
    layer = spec.layer
    direct = _direct(conn, spec)
    validator = Validator(conn, spec, id_field=options.id_field, repair=repair)
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
            read_errors.extend(raw.errors)
            checked = validator.chunk(raw)
            check_warnings.extend(checked.warnings)
            report.repaired.extend(checked.repaired)
            if copier is None:
                if direct:
                    frame_columns = set(checked.frame.columns)
                    columns = ["source_id", *(c for c in spec.columns if c in frame_columns)]
                else:
                    columns = _create_stage(conn, spec, checked.frame)
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
    return f"constraint {name}" if name else type(error).__name__


def _load(
    conn: Connection,
    spec: LayerSpec,
    rows: int,
    report: ImportReport,
    *,
    row_kind: str,
    actor: str,
    bar: tqdm[Any],
) -> list[Issue]:
    """From the staging table into the layer's table: insert, update, derive, audit."""
    conn.execute(text(f"ANALYZE {STAGE}"))
    if _fresh(conn, spec):
        bar.set_postfix_str("insert")
        report.inserted = _insert(conn, spec, fresh=True)
        bar.update()
        _audit(conn, spec, report, actor=actor, rows=rows, followed={})
        conn.execute(text(f"DROP TABLE {STAGE}"))
        bar.update()
        return []
    bar.set_postfix_str("resolve links")
    _resolve(conn, spec)
    issues = _unplaced(conn, spec, row_kind=row_kind)
    if issues:
        return issues
    bar.set_postfix_str("upsert")
    if spec.layer is Layer.ENTRANCES:
        _entrance_events(conn, actor)
    report.updated = _update(conn, spec)
    if spec.layer is Layer.ENTRANCES:
        new_ids = _insert_returning(conn, spec)
        report.inserted = len(new_ids)
        if new_ids:
            _new_entrance_events(conn, actor, new_ids)
    else:
        report.inserted = _insert(conn, spec, fresh=False)
    report.unchanged = rows - report.updated - report.inserted
    bar.update()
    bar.set_postfix_str("derive")
    followed = _cascade(conn, spec.table, None)
    if followed:
        report.warnings.append(
            "grid updated to follow its parent: "
            + ", ".join(f"{n} {table}" for table, n in followed.items())
        )
    conn.execute(text(f"DROP TABLE {STAGE}"))
    _audit(conn, spec, report, actor=actor, rows=rows, followed=followed)
    bar.update()
    return []


def _direct(conn: Connection, spec: LayerSpec) -> bool:
    """True when the rows can be copied straight into the layer's table as they are checked:
    it is empty, and nothing is derived from other rows (links found by geometry, followed
    columns, entrance events). Inside the import's transaction, a refused file is undone."""
    if spec.layer is Layer.ENTRANCES or spec.follows:
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


def _fresh(conn: Connection, spec: LayerSpec) -> bool:
    """True when the staged rows can go straight into the table: none of their source ids is
    there yet, and nothing is to be resolved (links, derived links, followed columns, events)."""
    if spec.layer is Layer.ENTRANCES or spec.follows:
        return False
    for f in spec.link_fields:
        if conn.execute(
            text(f"SELECT EXISTS (SELECT 1 FROM {STAGE} WHERE {f.name} IS NOT NULL)")  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
        ).scalar():
            return False
    for link in spec.spatial:
        if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {link.table})")).scalar():  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            return False
    if not conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {spec.table})")).scalar():  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
        return True
    return not conn.execute(
        text(
            f"SELECT EXISTS (SELECT 1 FROM {STAGE} s JOIN {spec.table} t "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            "ON t.source_id = s.source_id)"
        )
    ).scalar()


def _audit(
    conn: Connection,
    spec: LayerSpec,
    report: ImportReport,
    *,
    actor: str,
    rows: int,
    followed: dict[str, int],
) -> None:
    audit.record(
        conn,
        actor=actor,
        action="import",
        object_type=spec.layer.value,
        row_count=rows,
        detail={
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "repaired": len(report.repaired),
            "followed": followed,
            "format": Path(report.file).suffix.lower().lstrip(".")[:16],
        },
    )


def _create_stage(conn: Connection, spec: LayerSpec, frame: pd.DataFrame) -> list[str]:
    """The staging table: the checked columns, the ids to resolve, the geometry. No
    constraints and no indexes: every row was checked before it is copied here, and the
    table's own constraints check them again on the way in. Returns the columns copied."""
    types = {f.name if f.link is not None else f.target: SQL_TYPES[f.type] for f in spec.fields}
    copied = [ROW, "source_id", *(c for c in frame.columns if c in types)]
    columns = [f'"{ROW}" bigint', "source_id text"]
    columns += [f'"{c}" {types[c]}' for c in frame.columns if c in types]
    columns += [f'"{c}" bigint' for c in spec.id_columns]
    if spec.geometry is not None:
        columns.append("geom geometry(Geometry, 4326)")
        copied.append("geom")
    conn.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))
    conn.execute(text(f"CREATE TEMP TABLE {STAGE} ({', '.join(columns)}) ON COMMIT DROP"))
    return copied


def _resolve(conn: Connection, spec: LayerSpec) -> None:
    """Link source ids to ids; empty links derived from the geometry; followed columns copied."""
    for f in spec.link_fields:
        conn.execute(
            text(
                f"UPDATE {STAGE} s SET {f.target} = t.id FROM {f.link} t "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
                f"WHERE t.source_id = s.{f.name}"
            )
        )
    for link in spec.spatial:
        if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {link.table})")).scalar():  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            params = {} if link.near_m is None else {"near_m": link.near_m}
            conn.execute(text(_derive_sql(link)), params)
    for follow in spec.follows:
        conn.execute(
            text(
                f"UPDATE {STAGE} s SET {follow.column} = p.{follow.column} "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
                f"FROM {follow.table} p WHERE p.id = s.{follow.via}"
            )
        )


def _derive_sql(link: SpatialLink) -> str:
    if link.near_m is None:
        pick = (
            f"SELECT t.id FROM {link.table} t "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            "WHERE ST_Intersects(t.geom, ST_PointOnSurface(s.geom)) ORDER BY t.id LIMIT 1"
        )
    else:
        # the degree window lets the GiST index choose candidates; metres decide
        pick = (
            f"SELECT t.id FROM {link.table} t WHERE ST_DWithin(t.geom, s.geom, 0.001) "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            "AND ST_Distance(t.geom::geography, s.geom::geography) <= :near_m "
            "ORDER BY ST_Distance(t.geom::geography, s.geom::geography), t.id LIMIT 1"
        )
    unless = "".join(f" AND s.{c} IS NULL" for c in link.unless)
    return f"UPDATE {STAGE} s SET {link.column} = ({pick}) WHERE s.{link.column} IS NULL{unless}"  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)


def _unplaced(conn: Connection, spec: LayerSpec, *, row_kind: str) -> list[Issue]:
    """Rows whose required derived link found nothing."""
    issues = []
    for link in spec.spatial:
        if not link.required:
            continue
        unless = "".join(f" AND {c} IS NULL" for c in link.unless)
        rows = conn.execute(
            text(f'SELECT "{ROW}" FROM {STAGE} WHERE {link.column} IS NULL{unless} ORDER BY 1')  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
        ).scalars()
        for row in rows:
            where = {"line": int(row)} if row_kind == "line" else {"feature": int(row)}
            issues.append(Issue(reason=link.reason, field="geometry", **where))
    return issues


def _target(spec: LayerSpec, column: str) -> str:
    """The staged value as it would be stored (a missing `keep_when_missing` value kept)."""
    keep = {f.target for f in spec.fields if f.keep_when_missing}
    return f"COALESCE(s.{column}, t.{column})" if column in keep else f"s.{column}"


def _update(conn: Connection, spec: LayerSpec) -> int:
    cols = spec.columns
    sets = ", ".join(f"{c} = {_target(spec, c)}" for c in cols)
    old = ", ".join(f"t.{c}" for c in cols)
    new = ", ".join(_target(spec, c) for c in cols)
    result = conn.execute(
        text(
            f"UPDATE {spec.table} t SET {sets}, version = t.version + 1, updated_at = now() "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            f"FROM {STAGE} s WHERE t.source_id = s.source_id "
            f"AND ROW({old}) IS DISTINCT FROM ROW({new})"
        )
    )
    return int(result.rowcount)


def _insert_sql(spec: LayerSpec, *, fresh: bool) -> str:
    cols = spec.columns
    keep = {f.target for f in spec.fields if f.keep_when_missing}
    values = ", ".join(f"COALESCE(s.{c}, now())" if c in keep else f"s.{c}" for c in cols)
    new = (
        ""
        if fresh
        else f"WHERE NOT EXISTS (SELECT 1 FROM {spec.table} t WHERE t.source_id = s.source_id) "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
    )
    return (
        f"INSERT INTO {spec.table} (source_id, {', '.join(cols)}) "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
        f'SELECT s.source_id, {values} FROM {STAGE} s {new}ORDER BY s."{ROW}"'
    )


def _insert(conn: Connection, spec: LayerSpec, *, fresh: bool) -> int:
    """The staged rows not in the table yet (`fresh`: none is), in file order; how many."""
    return int(conn.execute(text(_insert_sql(spec, fresh=fresh))).rowcount)


def _insert_returning(conn: Connection, spec: LayerSpec) -> list[int]:
    result = conn.execute(text(_insert_sql(spec, fresh=False) + " RETURNING id"))
    return [int(i) for i in result.scalars()]


def _entrance_events(conn: Connection, actor: str) -> None:
    """A state changed by import is an event too (the day can be replayed)."""
    conn.execute(
        text(
            f"UPDATE {STAGE} s SET since = now() FROM entrances t "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            "WHERE t.source_id = s.source_id AND s.since IS NULL AND t.state <> s.state"
        )
    )
    conn.execute(
        text(
            "INSERT INTO entrance_events (entrance_id, at, from_state, to_state, user_name) "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            f"SELECT t.id, s.since, t.state, s.state, :actor FROM entrances t "
            f"JOIN {STAGE} s ON s.source_id = t.source_id WHERE t.state <> s.state"
        ),
        {"actor": actor},
    )


def _new_entrance_events(conn: Connection, actor: str, ids: list[int]) -> None:
    conn.execute(
        text(
            "INSERT INTO entrance_events (entrance_id, at, from_state, to_state, user_name) "
            "SELECT t.id, t.since, NULL, t.state, :actor FROM entrances t WHERE t.id = ANY(:ids)"
        ),
        {"actor": actor, "ids": ids},
    )


def _cascade(conn: Connection, table: str, ids: list[int] | None) -> dict[str, int]:
    """Children take their parent's grid: households their building's, residents their
    household's. `ids` None: the parents are the rows just imported."""
    followed: dict[str, int] = {}
    for child, via in CASCADES.get(table, ()):
        parents = (
            f"p.source_id IN (SELECT source_id FROM {STAGE})" if ids is None else "p.id = ANY(:ids)"  # noqa: S608 (STAGE is a constant of this module; ids are bound)
        )
        changed = list(
            conn.execute(
                text(
                    f"UPDATE {child} c SET grid_id = p.grid_id, version = c.version + 1, "  # noqa: S608 (tables and columns from CASCADES, a constant of this module)
                    f"updated_at = now() FROM {table} p WHERE c.{via} = p.id AND {parents} "
                    "AND c.grid_id IS DISTINCT FROM p.grid_id RETURNING c.id"
                ),
                {"ids": ids or []},
            ).scalars()
        )
        if changed:
            followed[child] = len(changed)
            for grand, n in _cascade(conn, child, changed).items():
                followed[grand] = followed.get(grand, 0) + n
    return followed
