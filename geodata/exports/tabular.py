"""GeoPackage and FlatGeobuf through pyogrio, fed Arrow record batches as rows stream in.

Types and the SRID (EPSG:4326) are kept: integers stay integers, dates dates, timestamps
timestamps in UTC. Only one batch is in memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyogrio

from geodata.exports.layers import FieldKind

BATCH_ROWS = 10_000
DRIVERS = {"gpkg": "GPKG", "fgb": "FlatGeobuf"}
ARROW_TYPES: dict[FieldKind, pa.DataType] = {
    FieldKind.INT: pa.int64(),
    FieldKind.FLOAT: pa.float64(),
    FieldKind.TEXT: pa.string(),
    FieldKind.BOOL: pa.bool_(),
    FieldKind.DATE: pa.date32(),
    FieldKind.DATETIME: pa.timestamp("ms", tz="UTC"),
}
ID_FIELD = "id"
GEOMETRY_FIELD = "geometry"


def arrow_schema(id_kind: FieldKind | None, fields: tuple[tuple[str, FieldKind], ...]) -> pa.Schema:
    """The id (none: `id_kind` None), the properties, the geometry."""
    columns = [] if id_kind is None else [(ID_FIELD, ARROW_TYPES[id_kind])]
    columns += [(name, ARROW_TYPES[kind]) for name, kind in fields]
    columns.append((GEOMETRY_FIELD, pa.binary()))
    return pa.schema(columns)


def _batches(
    schema: pa.Schema,
    rows: Iterable[tuple[Any, ...]],
    on_rows: Callable[[int], None] | None,
    counter: list[int],
) -> Iterator[pa.RecordBatch]:
    width = len(schema) - 1
    with_id = schema.field(0).name == ID_FIELD
    buffer: list[tuple[Any, ...]] = []

    def batch() -> pa.RecordBatch:
        columns = list(zip(*buffer, strict=True))
        # rows are (id, wkb, properties...); the schema is ([id,] properties..., geometry)
        ids = [columns[0]] if with_id else []
        ordered = [*ids, *columns[2:], columns[1]]
        arrays = [pa.array(col, type=schema.field(i).type) for i, col in enumerate(ordered)]
        assert len(arrays) == width + 1
        return pa.record_batch(arrays, schema=schema)

    for row in rows:
        buffer.append(row)
        if len(buffer) >= BATCH_ROWS:
            yield batch()
            counter[0] += len(buffer)
            if on_rows is not None:
                on_rows(len(buffer))
            buffer = []
    if buffer:
        yield batch()
        counter[0] += len(buffer)
        if on_rows is not None:
            on_rows(len(buffer))


def write_ogr(
    rows: Iterable[tuple[Any, ...]],
    path: Path,
    *,
    fmt: str,
    layer: str,
    geometry_type: str,
    id_kind: FieldKind,
    fields: tuple[tuple[str, FieldKind], ...],
    on_rows: Callable[[int], None] | None = None,
    with_id: bool = True,
) -> int:
    """Write (id, wkb, properties...) rows as one layer of a new GeoPackage or FlatGeobuf
    (`with_id` False: without the id field, for a file to be imported back)."""
    schema = arrow_schema(id_kind if with_id else None, fields)
    counter = [0]
    reader = pa.RecordBatchReader.from_batches(schema, _batches(schema, rows, on_rows, counter))
    options = {"SPATIAL_INDEX": "NO"} if fmt == "fgb" else None
    if path.exists():
        path.unlink()
    pyogrio.write_arrow(
        reader,
        str(path),
        layer=layer,
        driver=DRIVERS[fmt],
        geometry_name=GEOMETRY_FIELD,
        geometry_type=geometry_type,
        crs="EPSG:4326",
        encoding="UTF-8",
        layer_options=options,
    )
    return counter[0]
