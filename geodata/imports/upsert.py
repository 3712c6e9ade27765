"""From the staging table into the layer's table: new source ids inserted, changed rows
updated, entrance events written, the import audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from tqdm import tqdm

from geodata.auth import audit
from geodata.imports.layers import LayerSpec
from geodata.imports.links import cascade, resolve, unplaced
from geodata.imports.people_rules import after_upsert, before_upsert
from geodata.imports.report import ImportReport, Issue, Layer
from geodata.imports.staging import STAGE
from geodata.imports.validate import ROW


def load_staged(
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
        audit_import(conn, spec, report, actor=actor, rows=rows, followed={})
        conn.execute(text(f"DROP TABLE {STAGE}"))
        bar.update()
        return []
    bar.set_postfix_str("resolve links")
    resolve(conn, spec)
    issues = unplaced(conn, spec, row_kind=row_kind) or before_upsert(conn, spec, row_kind=row_kind)
    if issues:
        return issues
    bar.set_postfix_str("upsert")
    if spec.layer is Layer.ENTRANCES:
        _entrance_events(conn, actor)
    report.updated = 0 if spec.key else _update(conn, spec)
    if spec.key:
        report.inserted = _insert_pairs(conn, spec)
    elif spec.layer is Layer.ENTRANCES:
        new_ids = _insert_returning(conn, spec)
        report.inserted = len(new_ids)
        if new_ids:
            _new_entrance_events(conn, actor, new_ids)
    else:
        report.inserted = _insert(conn, spec, fresh=False)
    report.unchanged = rows - report.updated - report.inserted
    issues = after_upsert(conn, spec, row_kind=row_kind)
    if issues:
        return issues
    bar.update()
    bar.set_postfix_str("derive")
    followed = cascade(conn, spec.table, None)
    if followed:
        report.warnings.append(
            "grid updated to follow its parent: "
            + ", ".join(f"{n} {table}" for table, n in followed.items())
        )
    conn.execute(text(f"DROP TABLE {STAGE}"))
    audit_import(conn, spec, report, actor=actor, rows=rows, followed=followed)
    bar.update()
    return []


def _fresh(conn: Connection, spec: LayerSpec) -> bool:
    """True when the staged rows can go straight into the table: none of their source ids is
    there yet, and nothing is to be resolved (links, derived links, followed columns, events)."""
    if spec.layer is Layer.ENTRANCES or spec.follows or spec.staged:
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


def audit_import(
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
            "skipped": len(report.skipped),
            "followed": followed,
            "format": Path(report.file).suffix.lower().lstrip(".")[:16],
        },
    )


def _target(spec: LayerSpec, column: str) -> str:
    """The staged value as it would be stored (a missing `keep_when_missing` value kept)."""
    keep = {f.target for f in spec.fields if f.keep_when_missing}
    return f"COALESCE(s.{column}, t.{column})" if column in keep else f"s.{column}"


def _stored(spec: LayerSpec, column: str) -> str:
    """The stored value as the import would write it: polygons with their rings wound the
    import's way (a polygon stored by other means, wound the other way, is the same polygon,
    and a file that gives it back is unchanged)."""
    if column == "geom" and spec.geometry is not None and spec.geometry.polygonal:
        return "ST_ForcePolygonCCW(t.geom)"
    return f"t.{column}"


def _update(conn: Connection, spec: LayerSpec) -> int:
    cols = spec.columns
    sets = ", ".join(f"{c} = {_target(spec, c)}" for c in cols)
    old = ", ".join(_stored(spec, c) for c in cols)
    new = ", ".join(_target(spec, c) for c in cols)
    stamp = ", updated_at = now()" if spec.timestamps else ""
    result = conn.execute(
        text(
            f"UPDATE {spec.table} t SET {sets}, version = t.version + 1{stamp} "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            f"FROM {STAGE} s WHERE t.source_id = s.source_id "
            f"AND ROW({old}) IS DISTINCT FROM ROW({new})"
        )
    )
    return int(result.rowcount)


def _insert_sql(spec: LayerSpec, *, fresh: bool) -> str:
    cols = spec.columns
    keep = {f.target for f in spec.fields if f.keep_when_missing}
    values = ", ".join(f"COALESCE(s.{c}, now())" if c in keep else f"s.{c}" for c in cols)
    for column, sql in spec.insert_defaults:
        cols = (*cols, column)
        values += f", {sql}"
    new = (
        ""
        if fresh
        else f"WHERE NOT EXISTS (SELECT 1 FROM {spec.table} t WHERE t.source_id = s.source_id) "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
    )
    return (
        f"INSERT INTO {spec.table} (source_id, {', '.join(cols)}) "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
        f'SELECT s.source_id, {values} FROM {STAGE} s {new}ORDER BY s."{ROW}"'
    )


def _insert_pairs(conn: Connection, spec: LayerSpec) -> int:
    """A keyed layer's rows: the pairs not in the table yet, in file order; how many."""
    cols = spec.id_columns
    names = ", ".join(cols)
    same = " AND ".join(f"t.{c} = s.{c}" for c in cols)
    result = conn.execute(
        text(
            f"INSERT INTO {spec.table} ({names}) SELECT {', '.join(f's.{c}' for c in cols)} "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
            f"FROM {STAGE} s WHERE NOT EXISTS (SELECT 1 FROM {spec.table} t WHERE {same}) "
            f'ORDER BY s."{ROW}"'
        )
    )
    return int(result.rowcount)


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
