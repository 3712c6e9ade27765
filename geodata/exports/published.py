"""Sources of figures about people per grid or village, published through
`geodata.disclosure`: the table is made for the whole scope, then whole units are chosen."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geodata.disclosure.tables import Published
from geodata.exports.crs import LON_LAT, OutputCrs
from geodata.exports.filters import Filters
from geodata.exports.privacy import AggregateLevel, Pseudonyms
from geodata.exports.sources import spatial_where
from geodata.exports.sql_source import Shape, geometry_columns
from geodata.exports.units import UnitSource

UNIT_TABLES = {AggregateLevel.GRID: "grids", AggregateLevel.VILLAGE: "villages"}


@dataclass
class Publication:
    """A published table with each unit's descriptive columns, in the order of the units."""

    day: date
    values: Published
    heads: dict[str, list[Any]]


@dataclass
class PublishedUnitSource(UnitSource):
    """Whole grids or villages of a published table that meet the filters' bbox or village."""

    level: AggregateLevel
    filters: Filters
    geometry_type: str = "MultiPolygon"
    _chosen: list[str] | None = field(default=None, repr=False)
    _publication: Publication | None = field(default=None, repr=False)

    @abstractmethod
    def publish(self, conn: Connection) -> Publication:
        """The table over the whole scope, whatever the bbox or village asked."""

    def publication(self, conn: Connection) -> Publication:
        if self._publication is None:
            self._publication = self.publish(conn)
        return self._publication

    def unit_keys(self, conn: Connection) -> list[str]:
        if self._chosen is not None:
            return self._chosen
        codes = sorted(self.publication(conn).values)
        where, params = spatial_where("u.geom", "u.geom", self.filters)
        if where:
            kept = set(
                conn.execute(
                    text(
                        f"SELECT u.code FROM {UNIT_TABLES[self.level]} AS u "  # noqa: S608 (tables from UNIT_TABLES, conditions written in code; codes are bound)
                        f"WHERE u.code = ANY(:codes) AND {' AND '.join(where)}"
                    ),
                    {"codes": codes, **params},
                ).scalars()
            )
            codes = [c for c in codes if c in kept]
        self._chosen = codes
        return codes

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
        codes = self.unit_keys(conn)[start : None if limit is None else start + limit]
        geometry = ", ".join(geometry_columns("u.geom", shape, crs=crs))
        shapes = {
            row[0]: tuple(row[1:])
            for row in conn.execute(
                text(
                    f"SELECT u.code, {geometry} FROM {UNIT_TABLES[self.level]} AS u "  # noqa: S608 (tables from UNIT_TABLES, conditions written in code; codes are bound)
                    "WHERE u.code = ANY(:codes)"
                ),
                {"codes": codes},
            )
        }
        table = self.publication(conn)
        for code in codes:
            yield (code, *shapes[code], *table.heads[code], *table.values[code])
