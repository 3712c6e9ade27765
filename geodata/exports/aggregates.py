"""Counts of a personal layer per grid or village, published through `geodata.disclosure`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from geodata.disclosure.report import village_grids
from geodata.disclosure.snapshots import publish, scope_key
from geodata.disclosure.tables import CountTable, Unit
from geodata.exports.layers import FieldKind, Layer
from geodata.exports.privacy import AggregateLevel
from geodata.exports.published import Publication, PublishedUnitSource
from geodata.exports.sources import row_where


def _count_sql(layer: Layer, level: AggregateLevel, inner_where: list[str]) -> str:
    sums = ", ".join(f"sum({m.row_sql})::bigint AS {m.name}" for m in layer.measures)
    counts = ", ".join(f"coalesce(a.{m.name}, 0)" for m in layer.measures)
    where = f"WHERE {' AND '.join(inner_where)}" if inner_where else ""
    if level is AggregateLevel.GRID:
        return f"""
            SELECT u.code, u.name, uv.code, {counts}
            FROM grids AS u JOIN villages AS uv ON uv.id = u.village_id
            LEFT JOIN (
                SELECT {layer.grid_sql} AS unit_id, {sums}
                FROM {layer.from_sql} {where} GROUP BY 1
            ) AS a ON a.unit_id = u.id
            WHERE CAST(:scope_grids AS bigint[]) IS NULL OR u.id = ANY(:scope_grids)
            ORDER BY u.code
        """  # noqa: S608 (tables, columns and filters of the layer definitions in code; values are bound)
    return f"""
        SELECT u.code, u.name, {counts}
        FROM villages AS u
        LEFT JOIN (
            SELECT ag.village_id AS unit_id, {sums}
            FROM {layer.from_sql} JOIN grids AS ag ON ag.id = {layer.grid_sql}
            {where} GROUP BY 1
        ) AS a ON a.unit_id = u.id
        WHERE CAST(:scope_grids AS bigint[]) IS NULL OR u.id IN (
            SELECT sg.village_id FROM grids AS sg WHERE sg.id = ANY(:scope_grids))
        ORDER BY u.code
    """  # noqa: S608 (tables, columns and filters of the layer definitions in code; values are bound)


@dataclass(kw_only=True)
class AggregateSource(PublishedUnitSource):
    """Counts of `layer` per grid or village: every unit of the scope, whole."""

    layer: Layer

    @property
    def name(self) -> str:
        return f"{self.layer.name}_by_{self.level.value}"

    @property
    def published_id_kind(self) -> FieldKind:
        return FieldKind.TEXT

    @property
    def fields(self) -> tuple[tuple[str, FieldKind], ...]:
        head: tuple[tuple[str, FieldKind], ...]
        if self.level is AggregateLevel.GRID:
            head = (
                ("grid", FieldKind.TEXT),
                ("grid_name", FieldKind.TEXT),
                ("village_code", FieldKind.TEXT),
            )
        else:
            head = (("village_code", FieldKind.TEXT), ("village", FieldKind.TEXT))
        measures = tuple((m.name, FieldKind.INT) for m in self.layer.measures)
        return (*head, ("as_of", FieldKind.TEXT), *measures)

    def publish(self, conn: Connection) -> Publication:
        layer = self.layer
        assert layer.personal
        assert layer.measures
        figures = tuple(m.name for m in layer.measures)
        inner_where, params = row_where(layer, self.filters)
        scope = None if self.filters.grid_ids is None else sorted(self.filters.grid_ids)

        def count() -> CountTable:
            sql = text(_count_sql(layer, self.level, inner_where))
            rows = conn.execute(sql, {**params, "scope_grids": scope}).all()
            grid = self.level is AggregateLevel.GRID
            members = {} if grid else village_grids(conn, self.filters.grid_ids)
            units = tuple(
                Unit(
                    key=str(r[0]),
                    counts=tuple(int(c) for c in r[3 if grid else 2 :]),
                    group=str(r[2]) if grid else "",
                    grids=(str(r[0]),) if grid else members.get(str(r[0]), ()),
                )
                for r in rows
            )
            return CountTable(level=self.level.value, figures=figures, units=units)

        day, values = publish(
            conn,
            name=self.name,
            figures=figures,
            scope=scope_key(self.filters.grid_ids),
            day=self.filters.as_of,
            count=count,
        )
        heads = self._heads(conn)
        stamp = day.isoformat()
        return Publication(day=day, values=values, heads={k: [*v, stamp] for k, v in heads.items()})

    def _heads(self, conn: Connection) -> dict[str, list[Any]]:
        """Each unit's code and name (and a grid's village), as the table's first columns."""
        if self.level is AggregateLevel.GRID:
            sql = (
                "SELECT u.code, u.name, uv.code FROM grids AS u "
                "JOIN villages AS uv ON uv.id = u.village_id"
            )
        else:
            sql = "SELECT u.code, u.name FROM villages AS u"
        return {str(r[0]): list(r) for r in conn.execute(text(sql))}
