"""Row layers as sources, and the filters every source shares."""

from __future__ import annotations

from typing import Any

from geodata.disclosure.rules import DisclosureError
from geodata.exports.filters import Filters
from geodata.exports.layers import GRID_POINT, FieldKind, Layer, Treatment
from geodata.exports.privacy import RowView
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
    pseudonymous = layer.personal and view is RowView.PSEUDONYMOUS
    columns: list[Column] = []
    for f in layer.fields:
        shown = f.treatment is Treatment.KEEP or (
            f.treatment is Treatment.COUNTED and not pseudonymous
        )
        if not layer.personal or view is RowView.FULL or shown:
            columns.append(Column(f.name, f.kind, f.sql))
        elif f.treatment is Treatment.PSEUDONYM:
            kind = f.pseudonym_of if pseudonymous else None
            columns.append(Column(f.name, f.kind, f.sql, pseudonym_of=kind))
    geom = layer.geom_sql
    filter_geom = layer.filter_geom_sql
    if pseudonymous:
        # A row that carries its own address is not pseudonymous: it stands at its grid,
        # and a bbox or village takes whole grids.
        geom, filter_geom = GRID_POINT, "g.geom"
        if layer.time_is_counted and (filters.as_of or filters.start or filters.end):
            raise DisclosureError(
                f"{layer.name} by pseudonym cannot be chosen by {layer.time_sql}: that time "
                "is published only as counts per grid or hexagon"
            )
    where, params = spatial_where(geom, filter_geom, filters)
    time_where, time_params = row_where(layer, filters)
    return SqlSource(
        name=layer.name,
        geometry_type=layer.geometry_type,
        from_sql=layer.from_sql,
        id_sql=layer.id_sql,
        geom_sql=geom,
        columns=tuple(columns),
        id_pseudonym_of=layer.id_kind if pseudonymous else None,
        where=where + time_where,
        params={**params, **time_params},
    )
