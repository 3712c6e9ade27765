"""Counts of a personal layer per H3 hexagon, published through `geodata.disclosure`.

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

from geodata.disclosure.snapshots import publish, scope_key
from geodata.disclosure.tables import CountTable, Unit
from geodata.exports.crs import LON_LAT, OutputCrs
from geodata.exports.filters import Filters
from geodata.exports.layers import FieldKind, Layer
from geodata.exports.privacy import DEFAULT_HEX_RESOLUTION, Pseudonyms
from geodata.exports.sources import row_where
from geodata.exports.sql_source import GEOJSON_DECIMALS, Shape, geometry_columns, stream
from geodata.exports.units import UnitSource

DEFAULT_RESOLUTION = DEFAULT_HEX_RESOLUTION


@dataclass
class HexSource(UnitSource):
    """Counts per H3 cell of resolution `resolution`, published through
    `geodata.disclosure`: counted over the whole scope, then the whole cells that meet the
    bbox or village are chosen (never the rows inside a cell)."""

    layer: Layer
    filters: Filters
    resolution: int = DEFAULT_RESOLUTION
    geometry_type: str = "Polygon"
    _cells: list[tuple[str, list[int | None]]] | None = field(default=None, repr=False)
    _day: str = ""

    @property
    def name(self) -> str:
        return f"{self.layer.name}_by_hex"

    @property
    def published_id_kind(self) -> FieldKind:
        return FieldKind.TEXT

    @property
    def fields(self) -> tuple[tuple[str, FieldKind], ...]:
        measures = tuple((m.name, FieldKind.INT) for m in self.layer.measures)
        return (
            ("h3", FieldKind.TEXT),
            ("resolution", FieldKind.INT),
            ("as_of", FieldKind.TEXT),
            *measures,
        )

    def _true_counts(self, conn: Connection) -> CountTable:
        time_where, params = row_where(self.layer, self.filters)
        conditions = [f"{self.layer.geom_sql} IS NOT NULL", *time_where]
        point = f"ST_PointOnSurface({self.layer.geom_sql})"
        measures = ", ".join(m.row_sql for m in self.layer.measures)
        sql = text(
            f"SELECT ST_Y({point}), ST_X({point}), {measures} FROM {self.layer.from_sql} "  # noqa: S608 (tables, columns and filters of the layer definitions in code; values are bound)
            f"WHERE {' AND '.join(conditions)}"
        )
        sums: dict[str, list[int]] = {}
        for part in stream(conn, sql, params):
            for lat, lon, *values in part:
                cell = h3.latlng_to_cell(lat, lon, self.resolution)
                total = sums.get(cell)
                if total is None:
                    sums[cell] = [int(v or 0) for v in values]
                else:
                    for i, v in enumerate(values):
                        total[i] += int(v or 0)
        return CountTable(
            level=f"h3r{self.resolution}",
            figures=tuple(m.name for m in self.layer.measures),
            units=tuple(Unit(key=c, counts=tuple(sums[c])) for c in sorted(sums)),
        )

    def _count_cells(self, conn: Connection) -> list[tuple[str, list[int | None]]]:
        if self._cells is not None:
            return self._cells
        day, table = publish(
            conn,
            name=f"{self.name}{self.resolution}",
            figures=tuple(m.name for m in self.layer.measures),
            scope=scope_key(self.filters.grid_ids),
            day=self.filters.as_of,
            count=lambda: self._true_counts(conn),
        )
        self._day = day.isoformat()
        chosen = sorted(table)
        area = _filter_area(conn, self.filters)
        if area is not None and chosen:
            outlines = shapely.polygons([_ring(c) for c in chosen])
            meets = shapely.intersects(outlines, area)
            chosen = [c for c, keep in zip(chosen, meets.tolist(), strict=True) if keep]
        self._cells = [(cell, table[cell]) for cell in chosen]
        return self._cells

    def rows(
        self,
        conn: Connection,
        shape: Shape,
        pseudonyms: Pseudonyms | None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        crs: OutputCrs = LON_LAT,
    ) -> Iterator[tuple[Any, ...]]:
        start = offset or 0
        stop = None if limit is None else start + limit
        cells = self._count_cells(conn)[start:stop]
        if crs.is_lon_lat:
            shapes = [_geometry(cell, shape) for cell, _ in cells]
        else:
            shapes = _placed(conn, [cell for cell, _ in cells], shape, crs)
        for (cell, counts), geometry in zip(cells, shapes, strict=True):
            yield (cell, *geometry, cell, self.resolution, self._day, *counts)

    def unit_keys(self, conn: Connection) -> list[str]:
        return [cell for cell, _ in self._count_cells(conn)]


def _filter_area(conn: Connection, filters: Filters) -> shapely.Geometry | None:
    """The bbox and village asked for, as one area (None: the whole scope)."""
    area: shapely.Geometry | None = None
    if filters.bbox is not None:
        area = shapely.box(*filters.bbox)
    if filters.village is not None:
        wkb = conn.execute(
            text("SELECT ST_AsBinary(geom) FROM villages WHERE code = :c"), {"c": filters.village}
        ).scalar()
        village = shapely.from_wkb(bytes(wkb)) if wkb is not None else shapely.Polygon()
        area = village if area is None else shapely.intersection(area, village)
    return area


def _ring(cell: str) -> list[tuple[float, float]]:
    return [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]


def _polygon(cell: str) -> shapely.Polygon:
    """The cell's outline in lon/lat, exterior counterclockwise (RFC 7946)."""
    return shapely.geometry.polygon.orient(shapely.Polygon(_ring(cell)), sign=1.0)


def _placed(
    conn: Connection, cells: list[str], shape: Shape, crs: OutputCrs
) -> list[tuple[Any, ...]]:
    """The cells' outlines (their centres for LONLAT) moved into `crs` by PostGIS."""
    if not cells:
        return []
    outlines = [shapely.to_wkb(_polygon(cell)) for cell in cells]
    if shape is Shape.LONLAT:
        outlines = [shapely.to_wkb(shapely.Point(_geometry(cell, shape))) for cell in cells]
    columns = ", ".join(geometry_columns("ST_GeomFromWKB(o.wkb, 4326)", shape, crs=crs))
    found = conn.execute(
        text(
            f"SELECT {columns} FROM unnest(CAST(:wkbs AS bytea[])) WITH ORDINALITY AS o(wkb, n) "  # noqa: S608 (geometry columns of a CRS of a fixed list; the outlines are bound)
            "ORDER BY o.n"
        ),
        {"wkbs": outlines},
    )
    return [tuple(row) for row in found]


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
