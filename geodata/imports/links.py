"""Staged rows linked before the upsert: source ids to ids, empty links found by geometry,
followed columns copied; after it, children follow their parent's grid."""

from __future__ import annotations

from sqlalchemy import Connection, text

from geodata.imports.layers import CASCADES, LayerSpec, SpatialLink
from geodata.imports.report import Issue
from geodata.imports.staging import STAGE
from geodata.imports.validate import ROW


def resolve(conn: Connection, spec: LayerSpec) -> None:
    """Link source ids to ids; empty links derived from the geometry; followed columns copied."""
    for f in spec.link_fields:
        conn.execute(
            text(
                f"UPDATE {STAGE} s SET {f.target} = t.id FROM {f.link} t "  # noqa: S608 (names from the layer spec and STAGE; the file's values are only copied between tables)
                f"WHERE t.{f.link_key} = s.{f.name}"
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


def unplaced(conn: Connection, spec: LayerSpec, *, row_kind: str) -> list[Issue]:
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


def cascade(conn: Connection, table: str, ids: list[int] | None) -> dict[str, int]:
    """Children take their parent's grid: households their building's, residents their
    household's. `ids` None: the parents are the rows just imported."""
    followed: dict[str, int] = {}
    for child, via in CASCADES.get(table, ()):
        parents = (
            f"p.source_id IN (SELECT source_id FROM {STAGE})" if ids is None else "p.id = ANY(:ids)"  # noqa: S608 (STAGE is a constant of geodata.imports.staging; ids are bound)
        )
        changed = list(
            conn.execute(
                text(
                    f"UPDATE {child} c SET grid_id = p.grid_id, version = c.version + 1, "  # noqa: S608 (tables and columns from CASCADES, a constant of the layer specs)
                    f"updated_at = now() FROM {table} p WHERE c.{via} = p.id AND {parents} "
                    "AND c.grid_id IS DISTINCT FROM p.grid_id RETURNING c.id"
                ),
                {"ids": ids or []},
            ).scalars()
        )
        if changed:
            followed[child] = len(changed)
            for grand, n in cascade(conn, child, changed).items():
                followed[grand] = followed.get(grand, 0) + n
    return followed
