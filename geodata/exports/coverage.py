"""The coverage results per grid or village, with their polygons.

The figures are those of `geodata.coverage` (the report the commanders see); counts of
households are published only from SUPPRESS_BELOW up, like every other aggregate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from geodata.access import Principal
from geodata.analysis.coverage.report import FIGURES
from geodata.coverage import coverage_for
from geodata.exports.filters import Filters, end_of
from geodata.exports.layers import FieldKind
from geodata.exports.privacy import AggregateLevel, Pseudonyms, suppress
from geodata.exports.sources import spatial_where
from geodata.exports.sql_source import Shape, geometry_columns
from geodata.exports.units import UnitSource

HOUSEHOLD_FIGURES = frozenset({"households", "reached", "screened_24h", "never_visited"})
"""Figures that count households: suppressed under the threshold."""


@dataclass
class CoverageSource(UnitSource):
    principal: Principal
    level: AggregateLevel
    filters: Filters
    geometry_type: str = "MultiPolygon"
    _units: list[dict[str, Any]] | None = field(default=None, repr=False)
    _as_of: str = ""

    @property
    def name(self) -> str:
        return f"coverage_by_{self.level.value}"

    @property
    def published_id_kind(self) -> FieldKind:
        return FieldKind.TEXT

    @property
    def fields(self) -> tuple[tuple[str, FieldKind], ...]:
        head: tuple[tuple[str, FieldKind], ...] = (
            ("code", FieldKind.TEXT),
            ("name", FieldKind.TEXT),
        )
        if self.level is AggregateLevel.GRID:
            head += (("village_code", FieldKind.TEXT),)
        head += (("as_of", FieldKind.TEXT),)
        return head + tuple((f, FieldKind.INT) for f in FIGURES)

    def _report(self, conn: Connection) -> list[dict[str, Any]]:
        if self._units is not None:
            return self._units
        as_of = end_of(self.filters.as_of) if self.filters.as_of else None
        report = coverage_for(
            conn,
            self.principal,
            as_of=as_of,
            level="grid" if self.level is AggregateLevel.GRID else "village",
        )
        self._as_of = str(report["as_of"])
        units = report["grids" if self.level is AggregateLevel.GRID else "villages"]
        table = "grids" if self.level is AggregateLevel.GRID else "villages"
        where, params = spatial_where("u.geom", "u.geom", self.filters)
        kept = set(
            conn.execute(
                text(
                    f"SELECT u.code FROM {table} AS u WHERE u.code = ANY(:codes) "
                    + "".join(f" AND {w}" for w in where)
                ),
                {"codes": [u["code"] for u in units], **params},
            ).scalars()
        )
        self._units = sorted((u for u in units if u["code"] in kept), key=lambda u: u["code"])
        return self._units

    def count(self, conn: Connection) -> int:
        return len(self._report(conn))

    def _values(self, unit: dict[str, Any]) -> list[Any]:
        head = [unit["code"], unit.get("name")]
        if self.level is AggregateLevel.GRID:
            head.append(unit.get("village"))
        head.append(self._as_of)
        households = suppress(unit.get("households"))
        figures = []
        for f in FIGURES:
            value = unit.get(f)
            if f in HOUSEHOLD_FIGURES:
                value = suppress(value) if households is not None else None
            figures.append(value)
        return head + figures

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
        units = self._report(conn)[start : None if limit is None else start + limit]
        table = "grids" if self.level is AggregateLevel.GRID else "villages"
        geometry = ", ".join(geometry_columns("u.geom", shape))
        shapes = {
            row[0]: tuple(row[1:])
            for row in conn.execute(
                text(f"SELECT u.code, {geometry} FROM {table} AS u WHERE u.code = ANY(:codes)"),
                {"codes": [u["code"] for u in units]},
            )
        }
        for unit in units:
            yield (unit["code"], *shapes[unit["code"]], *self._values(unit))

    def unit_keys(self, conn: Connection) -> list[str]:
        return [str(u["code"]) for u in self._report(conn)]
