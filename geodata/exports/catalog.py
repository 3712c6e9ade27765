"""The collections a principal may read feature by feature (the OGC API), at the level the
role allows: public layers for anyone who sees the map; personal layers in full for admins,
pseudonymous for analysts, redacted and limited to their grids for those who keep
households; aggregates for those who may export them; coverage for those who see it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, text

from geodata.auth.access import Action, Principal
from geodata.disclosure.rules import controlled, town_today
from geodata.exports.aggregates import AggregateSource
from geodata.exports.coverage import CoverageSource
from geodata.exports.filters import Filters
from geodata.exports.hexagons import HexSource
from geodata.exports.layers import LAYERS, PERSONAL_LAYERS, PUBLIC_LAYERS, FieldKind, Layer
from geodata.exports.privacy import AggregateLevel, PrivacyLevel, RowView
from geodata.exports.sources import row_source
from geodata.exports.sql_source import FeatureSource


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    geometry_type: str
    layer: Layer | None
    """The layer read (None: coverage)."""
    view: RowView | None = None
    """Rows of a layer: how they are shown (None: public layer, or an aggregate)."""
    level: AggregateLevel | None = None
    """Aggregates and coverage: their units."""

    @property
    def personal(self) -> bool:
        """Whether reading it touches personal data (and so is audited)."""
        return self.layer is None or self.layer.personal

    @property
    def privacy(self) -> PrivacyLevel | None:
        if self.view is not None:
            return PrivacyLevel.FULL if self.view is RowView.REDACTED else PrivacyLevel(self.view)
        return PrivacyLevel.AGGREGATE if self.personal else None

    @property
    def time_kind(self) -> FieldKind | None:
        if self.layer is None:
            return FieldKind.DATE  # coverage: the day screened
        if self.level is not None:
            return None
        if self.view is RowView.PSEUDONYMOUS and self.layer.time_is_counted:
            return None
        return self.layer.time_kind

    def time_range(
        self, conn: Connection, principal: Principal
    ) -> tuple[date | datetime | None, date | datetime | None] | None:
        """The first and last time of the rows the principal may read (None: no time).

        Coverage can be asked for any day from the first visit on: its range is open-ended.
        Run in a transaction scoped to the principal (row-level security).
        """
        if self.time_kind is None:
            return None
        layer = self.layer or LAYERS["visits"]
        assert layer.time_sql is not None
        rows = row_source(layer, RowView.FULL, Filters(grid_ids=principal.grid_ids))
        where = f"WHERE {' AND '.join(rows.where)}" if rows.where else ""
        first, last = conn.execute(
            text(
                f"SELECT min({layer.time_sql}), max({layer.time_sql}) FROM {rows.from_sql} {where}"  # noqa: S608 (tables, columns and filters of the layer definitions in code; values are bound)
            ),
            rows.params,
        ).one()
        if self.layer is None:
            return (None if first is None else first.date(), None)
        return first, last

    def source(self, filters: Filters, principal: Principal) -> FeatureSource:
        if self.layer is None:
            assert self.level is not None
            return CoverageSource(principal=principal, level=self.level, filters=filters)
        if self.level is AggregateLevel.HEX:
            if controlled(principal):
                # today is published per grid or village only: hexagons of the last closed day
                filters = replace(filters, as_of=town_today() - timedelta(days=1))
            return HexSource(self.layer, filters)
        if self.level is not None:
            return AggregateSource(layer=self.layer, level=self.level, filters=filters)
        return row_source(self.layer, self.view or RowView.FULL, filters)


def row_view(principal: Principal) -> RowView | None:
    """How a principal sees the rows of personal layers (None: not at all)."""
    if principal.can(Action.EXPORT_PERSONAL):
        return RowView.FULL
    if principal.can(Action.EXPORT_PSEUDONYMOUS):
        return RowView.PSEUDONYMOUS
    if principal.can(Action.VIEW_HOUSEHOLDS):
        return RowView.REDACTED
    return None


def collections_for(principal: Principal) -> dict[str, Collection]:
    """Every collection the principal may read, in a stable order."""
    found: list[Collection] = []
    if principal.can(Action.VIEW_MAP):
        found += [
            Collection(layer.name, layer.title, layer.title, layer.geometry_type, layer)
            for layer in PUBLIC_LAYERS
        ]
    view = row_view(principal)
    for layer in PERSONAL_LAYERS:
        if view is not None:
            found.append(
                Collection(
                    layer.name,
                    layer.title,
                    f"{layer.title}, one feature each ({view.value})",
                    layer.geometry_type,
                    layer,
                    view=view,
                )
            )
        if principal.can(Action.EXPORT_AGGREGATE):
            for level in AggregateLevel:
                found.append(
                    Collection(
                        f"{layer.name}-by-{level.value}",
                        f"{layer.title} per {level.value}",
                        f"Counts of {layer.title.lower()} per {level.value}, randomly "
                        "rounded to multiples of 5; counts under 5 are not published"
                        + (
                            "; of the last closed day"
                            if level is AggregateLevel.HEX and controlled(principal)
                            else ""
                        ),
                        "Polygon" if level is AggregateLevel.HEX else "MultiPolygon",
                        layer,
                        level=level,
                    )
                )
    if principal.can(Action.VIEW_COVERAGE):
        for level in (AggregateLevel.GRID, AggregateLevel.VILLAGE):
            found.append(
                Collection(
                    f"coverage-by-{level.value}",
                    f"Coverage per {level.value}",
                    "The coverage report (datetime=YYYY-MM-DD: as of the end of that day; "
                    "default now); counts of households randomly rounded to multiples of 5, "
                    "those under 5 not published",
                    "MultiPolygon",
                    None,
                    level=level,
                )
            )
    return {c.id: c for c in found}
