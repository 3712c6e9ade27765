"""Counts of a personal layer per H3 hexagon, small counts suppressed.

Each row's point is streamed from the database and given its cell here (the `h3` package);
only the per-cell sums are kept in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import h3  # type: ignore[import-untyped]
import orjson
import shapely
from sqlalchemy import Connection, text

from geodata.exports.filters import Filters
from geodata.exports.layers import FieldKind, Layer
from geodata.exports.privacy import DEFAULT_HEX_RESOLUTION, Pseudonyms, suppress
from geodata.exports.sources import row_where, spatial_where
from geodata.exports.sql_source import GEOJSON_DECIMALS, Shape, stream
from geodata.exports.units import UnitSource

DEFAULT_RESOLUTION = DEFAULT_HEX_RESOLUTION


@dataclass
class HexSource(UnitSource):
    """Counts per H3 cell of resolution `resolution`."""

    layer: Layer
    filters: Filters
    resolution: int = DEFAULT_RESOLUTION
    geometry_type: str = "Polygon"
    _cells: list[tuple[str, list[int | None]]] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"{self.layer.name}_by_hex"

    @property
    def published_id_kind(self) -> FieldKind:
        return FieldKind.TEXT

    @property
    def fields(self) -> tuple[tuple[str, FieldKind], ...]:
        measures = tuple((m.name, FieldKind.INT) for m in self.layer.measures)
        return (("h3", FieldKind.TEXT), ("resolution", FieldKind.INT), *measures)

    def _count_cells(self, conn: Connection) -> list[tuple[str, list[int | None]]]:
        if self._cells is not None:
            return self._cells
        where, params = spatial_where(self.layer.geom_sql, self.layer.filter_geom_sql, self.filters)
        time_where, row_params = row_where(self.layer, self.filters)
        conditions = [f"{self.layer.geom_sql} IS NOT NULL", *where, *time_where]
        point = f"ST_PointOnSurface({self.layer.geom_sql})"
        measures = ", ".join(m.row_sql for m in self.layer.measures)
        sql = text(
            f"SELECT ST_Y({point}), ST_X({point}), {measures} FROM {self.layer.from_sql} "
            f"WHERE {' AND '.join(conditions)}"
        )
        sums: dict[str, list[int]] = {}
        result = stream(conn, sql, {**params, **row_params})
        for part in result:
            for lat, lon, *values in part:
                cell = h3.latlng_to_cell(lat, lon, self.resolution)
                total = sums.get(cell)
                if total is None:
                    sums[cell] = [int(v or 0) for v in values]
                else:
                    for i, v in enumerate(values):
                        total[i] += int(v or 0)
        cells: list[tuple[str, list[int | None]]] = []
        for cell in sorted(sums):
            counts = sums[cell]
            published: list[int | None] = [None] * len(counts)
            if suppress(counts[0]) is not None:
                published = [suppress(c) for c in counts]
            cells.append((cell, published))
        self._cells = cells
        return cells

    def count(self, conn: Connection) -> int:
        return len(self._count_cells(conn))

    def rows(
        self,
        conn: Connection,
        shape: Shape,
        pseudonyms: Pseudonyms | None,
        *,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        start = offset or 0
        stop = None if limit is None else start + limit
        for cell, counts in self._count_cells(conn)[start:stop]:
            yield (cell, *_geometry(cell, shape), cell, self.resolution, *counts)

    def unit_keys(self, conn: Connection) -> list[str]:
        return [cell for cell, _ in self._count_cells(conn)]


def _polygon(cell: str) -> shapely.Polygon:
    """The cell's outline in lon/lat, exterior counterclockwise (RFC 7946)."""
    ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
    return shapely.geometry.polygon.orient(shapely.Polygon(ring), sign=1.0)


def _geometry(cell: str, shape: Shape) -> tuple[Any, ...]:
    if shape is Shape.LONLAT:
        lat, lng = h3.cell_to_latlng(cell)
        return (round(lng, GEOJSON_DECIMALS), round(lat, GEOJSON_DECIMALS))
    polygon = _polygon(cell)
    if shape is Shape.WKB:
        return (shapely.to_wkb(polygon),)
    if shape is Shape.WKT:
        return (shapely.to_wkt(polygon, rounding_precision=GEOJSON_DECIMALS),)
    ring = [
        [round(x, GEOJSON_DECIMALS), round(y, GEOJSON_DECIMALS)] for x, y in polygon.exterior.coords
    ]
    return (orjson.dumps({"type": "Polygon", "coordinates": [ring]}).decode(),)
