"""`wangge export LAYER --for-import`: a layer written with exactly the fields that
`wangge import LAYER` reads, so that it imports back unchanged (into the same town) or whole
(into another, layer by layer in `import_order`).

The fields come from the import's own declarations (geodata.imports.layers): source_id, every
field under its import name, and every link as the linked row's source id (or code). The
geometry is written as stored (no rounding, rings in their order). A new import field or
layer is exported without a change here.

Personal layers are written in full: an admin's right (the full level), audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, ForbiddenError, Principal
from geodata.auth.rls import apply_scope
from geodata.exports.filters import Filters
from geodata.exports.layers_base import FieldKind
from geodata.exports.run import ExportError, ExportRequest, Format, write_file
from geodata.exports.sql_source import Column, SqlSource
from geodata.imports.layers import LAYERS, FieldSpec, FieldType, LayerSpec
from geodata.imports.report import Layer

KINDS: dict[FieldType, FieldKind] = {
    FieldType.TEXT: FieldKind.TEXT,
    FieldType.INT: FieldKind.INT,
    FieldType.FLOAT: FieldKind.FLOAT,
    FieldType.BOOL: FieldKind.BOOL,
    FieldType.DATE: FieldKind.DATE,
    FieldType.DATETIME: FieldKind.DATETIME,
    FieldType.CHOICE: FieldKind.TEXT,
}
"""The type a field of each import type is written as."""
FORMATS = (Format.GPKG, Format.GEOJSON, Format.CSV)
"""The formats the importer reads back."""
NO_GEOMETRY = "NULL::geometry"


class ForImportForbiddenError(ForbiddenError):
    """Someone who may not export personal data in full asked for `--for-import`."""

    exit_code = 1


@dataclass(frozen=True)
class ForImportResult:
    layer: str
    rows: int


def import_layer(name: str) -> Layer:
    """The import layer a name gives (`isolation_sites` as well as `isolation-sites`)."""
    for candidate in (name, name.replace("_", "-")):
        if candidate in LAYERS:
            return Layer(candidate)
    known = ", ".join(layer.value for layer in LAYERS)
    raise ExportError(f"--for-import: no import layer {name!r}; one of: {known}")


def require_right(principal: Principal) -> None:
    """Refuse (exit 1, HTTP 403) whoever may not export personal data in full."""
    if not principal.can(Action.EXPORT_PERSONAL):
        raise ForImportForbiddenError(
            f"--for-import writes every field, personal ones included: only an admin may "
            f"export in full ({principal.role.value} may not)"
        )


def field_names(spec: LayerSpec) -> tuple[str, ...]:
    """The fields a file of this layer is written with: those `wangge import` reads."""
    own = () if spec.key else ("source_id",)
    return (*own, *(f.name for f in spec.fields))


def _column(f: FieldSpec, index: int) -> tuple[Column, str]:
    """A field's column and the join it needs (empty: none)."""
    if f.link is None:
        return Column(f.name, KINDS.get(f.type, FieldKind.TEXT), f"t.{f.target}"), ""
    alias = f"l{index}"
    join = f"LEFT JOIN {f.link} AS {alias} ON {alias}.id = t.{f.target}"
    return Column(f.name, FieldKind.TEXT, f"{alias}.{f.link_key}"), join


def source_for(spec: LayerSpec) -> SqlSource:
    """Every row of the layer's table with the import's fields, the geometry as stored."""
    columns: list[Column] = [] if spec.key else [Column("source_id", FieldKind.TEXT, "t.source_id")]
    joins: list[str] = []
    for index, f in enumerate(spec.fields):
        column, join = _column(f, index)
        columns.append(column)
        if join:
            joins.append(join)
    geom = NO_GEOMETRY
    if spec.geometry is not None:
        # outer rings counterclockwise, as an import winds them (and RFC 7946 asks)
        geom = "ST_ForcePolygonCCW(t.geom)" if spec.geometry.polygonal else "t.geom"
    return SqlSource(
        name=spec.layer.value,
        geometry_type=spec.geometry.value if spec.geometry is not None else "Unknown",
        from_sql=" ".join([f"{spec.table} AS t", *joins]),
        id_sql="t.id",
        geom_sql=geom,
        columns=tuple(columns),
        for_import=True,
    )


def export_for_import(
    conn: Connection,
    principal: Principal,
    layer_name: str,
    fmt: Format,
    path: Path,
    *,
    csv_lonlat: bool = False,
    csv_bom: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> ForImportResult:
    """Write one layer for `wangge import`, in the caller's transaction (audit row included)."""
    require_right(principal)
    layer = import_layer(layer_name)
    spec = LAYERS[layer]
    if fmt not in FORMATS:
        known = ", ".join(f.value for f in FORMATS)
        raise ExportError(f"--for-import: {fmt.value} is not read by the import; one of: {known}")
    if csv_lonlat and spec.geometry is not None and spec.geometry.value != "Point":
        raise ExportError(f"--lonlat: {layer.value} are not points; the CSV carries WKT")
    apply_scope(conn, principal)
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
    request = ExportRequest(
        layer.value, fmt, filters=Filters(), csv_lonlat=csv_lonlat and spec.geometry is not None,
        csv_bom=csv_bom, table_ids=False,
    )  # fmt: skip
    rows = write_file(conn, request, source_for(spec), None, path, on_rows=on_rows)
    audit.record(
        conn,
        actor=principal.name,
        action="export",
        object_type=layer.value,
        row_count=rows,
        detail={"format": fmt.value, "privacy": "full", "for_import": True},
    )
    return ForImportResult(layer=layer.value, rows=rows)


def _needs(spec: LayerSpec, by_table: dict[str, Layer], *, required: bool) -> set[Layer]:
    """The other layers whose rows this layer's rows name (only the required links: `required`)."""
    tables = {f.link for f in spec.fields if f.link is not None and (f.required or not required)}
    tables |= {s.table for s in spec.spatial if s.required or not required}
    return {by_table[t] for t in tables if t in by_table and t != spec.table}


def import_order() -> tuple[Layer, ...]:
    """The import layers in an order to load a town from empty: each after every layer it
    links to, except where links go round (a village names its secretary, who names her
    village): then after the layers its required links name."""
    by_table = {spec.table: layer for layer, spec in LAYERS.items()}
    every = {layer: _needs(spec, by_table, required=False) for layer, spec in LAYERS.items()}
    must = {layer: _needs(spec, by_table, required=True) for layer, spec in LAYERS.items()}
    order: list[Layer] = []
    while len(order) < len(LAYERS):
        done = set(order)
        left = [layer for layer in LAYERS if layer not in done]
        ready = [layer for layer in left if every[layer] <= done]
        ready = ready or [layer for layer in left if must[layer] <= done]
        if not ready:
            raise RuntimeError(f"import layers that need each other: {', '.join(left)}")
        order.append(ready[0])
    return tuple(order)


def links_ahead(order: tuple[Layer, ...]) -> dict[Layer, tuple[str, ...]]:
    """Per layer, the link fields that name a layer loaded after it in `order`: a town loaded
    from empty leaves them out on the first pass and imports the layer again at the end."""
    position = {LAYERS[layer].table: order.index(layer) for layer in order}
    ahead: dict[Layer, tuple[str, ...]] = {}
    for layer in order:
        spec = LAYERS[layer]
        names = tuple(
            f.name
            for f in spec.fields
            if f.link is not None
            and f.link != spec.table
            and position.get(f.link, -1) > order.index(layer)
        )
        if names:
            ahead[layer] = names
    return ahead
