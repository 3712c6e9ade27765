"""Requests become sources: row layers, aggregates per grid or village, and coverage."""

from __future__ import annotations

from typing import Any

from geodata.exports.filters import Filters
from geodata.exports.layers import FieldKind, Layer, Treatment
from geodata.exports.privacy import SUPPRESS_BELOW, AggregateLevel, RowView
from geodata.exports.sql_source import Column, SqlSource, end_of_day_params

ENVELOPE = "ST_MakeEnvelope(:bbox_w, :bbox_s, :bbox_e, :bbox_n, 4326)"
VILLAGE_GEOM = "(SELECT vf.geom FROM villages AS vf WHERE vf.code = :village_code)"


def spatial_where(geom: str, index_geom: str, filters: Filters) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if filters.bbox is not None:
        where.append(f"{index_geom} && {ENVELOPE} AND ST_Intersects({geom}, {ENVELOPE})")
        w, s, e, n = filters.bbox
        params.update(bbox_w=w, bbox_s=s, bbox_e=e, bbox_n=n)
    if filters.village is not None:
        where.append(f"{index_geom} && {VILLAGE_GEOM} AND ST_Intersects({geom}, {VILLAGE_GEOM})")
        params["village_code"] = filters.village
    return where, params


def row_where(layer: Layer, filters: Filters) -> tuple[list[str], dict[str, Any]]:
    """Time and scope conditions on a layer's own rows."""
    where: list[str] = []
    params: dict[str, Any] = end_of_day_params(filters)
    if layer.time_sql is not None:
        if filters.as_of is not None:
            bound = "as_of_date" if layer.time_kind is FieldKind.DATE else "as_of_end"
            op = "<=" if layer.time_kind is FieldKind.DATE else "<"
            condition = f"{layer.time_sql} {op} :{bound}"
            if layer.undated_always:
                condition = f"({layer.time_sql} IS NULL OR {condition})"
            where.append(condition)
        if filters.start is not None:
            where.append(f"{layer.time_sql} >= :time_start")
            params["time_start"] = filters.start
        if filters.end is not None:
            where.append(f"{layer.time_sql} <= :time_end")
            params["time_end"] = filters.end
    if layer.personal and filters.grid_ids is not None:
        where.append(f"{layer.grid_sql} = ANY(:scope_grids)")
        params["scope_grids"] = sorted(filters.grid_ids)
    return where, params


def row_source(layer: Layer, view: RowView, filters: Filters) -> SqlSource:
    """One feature per row of the layer, shown as `view` allows (public layers: as they are)."""
    columns: list[Column] = []
    for f in layer.fields:
        if not layer.personal or view is RowView.FULL or f.treatment is Treatment.KEEP:
            columns.append(Column(f.name, f.kind, f.sql))
        elif f.treatment is Treatment.PSEUDONYM:
            kind = f.pseudonym_of if view is RowView.PSEUDONYMOUS else None
            columns.append(Column(f.name, f.kind, f.sql, pseudonym_of=kind))
    where, params = spatial_where(layer.geom_sql, layer.filter_geom_sql, filters)
    time_where, time_params = row_where(layer, filters)
    pseudonymous = layer.personal and view is RowView.PSEUDONYMOUS
    return SqlSource(
        name=layer.name,
        geometry_type=layer.geometry_type,
        from_sql=layer.from_sql,
        id_sql=layer.id_sql,
        geom_sql=layer.geom_sql,
        columns=tuple(columns),
        id_pseudonym_of=layer.id_kind if pseudonymous else None,
        where=where + time_where,
        params={**params, **time_params},
    )


def _suppressed(expr: str, primary: str) -> str:
    """A count as published: NULL when it, or the unit's main count, is under the threshold."""
    return (
        f"CASE WHEN coalesce({primary}, 0) < {SUPPRESS_BELOW} "
        f"OR coalesce({expr}, 0) < {SUPPRESS_BELOW} THEN NULL ELSE {expr} END"
    )


def aggregate_source(layer: Layer, level: AggregateLevel, filters: Filters) -> SqlSource:
    """Counts of a personal layer per grid or per village, small counts suppressed."""
    if level is AggregateLevel.HEX:
        raise ValueError("hexagons are counted by geodata.exports.hexagons")
    assert layer.personal
    assert layer.measures
    assert layer.grid_sql
    inner_where, params = row_where(layer, filters)
    sums = ", ".join(f"sum({m.row_sql})::bigint AS {m.name}" for m in layer.measures)
    inner_where_sql = f"WHERE {' AND '.join(inner_where)}" if inner_where else ""
    primary = f"a.{layer.measures[0].name}"
    columns = [
        Column(m.name, FieldKind.INT, _suppressed(f"a.{m.name}", primary)) for m in layer.measures
    ]
    if level is AggregateLevel.GRID:
        from_sql = f"""
            grids AS u JOIN villages AS uv ON uv.id = u.village_id
            LEFT JOIN (
                SELECT {layer.grid_sql} AS unit_id, {sums}
                FROM {layer.from_sql} {inner_where_sql}
                GROUP BY 1
            ) AS a ON a.unit_id = u.id
        """
        head = [
            Column("grid", FieldKind.TEXT, "u.code"),
            Column("grid_name", FieldKind.TEXT, "u.name"),
            Column("village_code", FieldKind.TEXT, "uv.code"),
        ]
        unit_scope = "u.id = ANY(:scope_grids)"
    else:
        from_sql = f"""
            villages AS u
            LEFT JOIN (
                SELECT ag.village_id AS unit_id, {sums}
                FROM {layer.from_sql} JOIN grids AS ag ON ag.id = {layer.grid_sql}
                {inner_where_sql}
                GROUP BY 1
            ) AS a ON a.unit_id = u.id
        """
        head = [
            Column("village_code", FieldKind.TEXT, "u.code"),
            Column("village", FieldKind.TEXT, "u.name"),
        ]
        unit_scope = (
            "u.id IN (SELECT sg.village_id FROM grids AS sg WHERE sg.id = ANY(:scope_grids))"
        )
    where, spatial_params = spatial_where("u.geom", "u.geom", filters)
    if filters.grid_ids is not None:
        where.append(unit_scope)
    return SqlSource(
        name=f"{layer.name}_by_{level.value}",
        geometry_type="MultiPolygon",
        from_sql=from_sql,
        id_sql="u.id",
        geom_sql="u.geom",
        columns=tuple(head + columns),
        where=where,
        params={**params, **spatial_params},
    )
