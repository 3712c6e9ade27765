"""The coverage results per grid or village, with their polygons.

The figures are those of `geodata.services.coverage` (the report the commanders see); counts of
households are published through `geodata.disclosure`, like every other aggregate; the
other figures (compounds, leaks, checkpoints) count no people and are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from geodata.analysis.coverage.report import FIGURES, coverage_report
from geodata.analysis.coverage.rollup import Level
from geodata.auth.access import Principal
from geodata.disclosure.report import HOUSEHOLD_FIGURES, publish_report_units
from geodata.disclosure.rules import town_today
from geodata.exports.filters import end_of
from geodata.exports.layers import FieldKind
from geodata.exports.privacy import AggregateLevel
from geodata.exports.published import Publication, PublishedUnitSource
from geodata.records.coverage_inputs import fetch_inputs


@dataclass(kw_only=True)
class CoverageSource(PublishedUnitSource):
    principal: Principal

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

    def publish(self, conn: Connection) -> Publication:
        day = self.filters.as_of
        if day is not None and day >= town_today():
            day = None
        level: Level = "grid" if self.level is AggregateLevel.GRID else "village"
        # The export was allowed and scoped (row-level security) by exports.run.prepare.
        inputs = fetch_inputs(
            conn, as_of=end_of(day) if day else None, grid_ids=self.principal.grid_ids
        )
        report = coverage_report(inputs, level=level)
        units = report["grids" if self.level is AggregateLevel.GRID else "villages"]
        published_day, table = publish_report_units(
            conn,
            units,
            level=level,
            name=self.name,
            grid_ids=self.principal.grid_ids,
            day=day,
        )
        heads: dict[str, list[Any]] = {}
        values: dict[str, list[int | None]] = {}
        for unit in units:
            code = str(unit["code"])
            head = [code, unit.get("name")]
            if self.level is AggregateLevel.GRID:
                head.append(unit.get("village"))
            heads[code] = [*head, str(report["as_of"])]
            shown = dict(zip(HOUSEHOLD_FIGURES, table[code], strict=True))
            values[code] = [shown[f] if f in shown else unit.get(f) for f in FIGURES]
        return Publication(day=published_day, values=values, heads=heads)
