"""The parts of an exported layer: its fields and how a pseudonymous export treats them,
its measures, and the layer itself. The layers are in `layers` and `quarantine_layers`."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FieldKind(enum.StrEnum):
    INT = "int"
    FLOAT = "float"
    TEXT = "text"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"


class Treatment(enum.StrEnum):
    """What a pseudonymous export does with a field."""

    KEEP = "keep"
    DROP = "drop"
    """Names, ID numbers, phones and source ids: never in a pseudonymous export."""
    PSEUDONYM = "pseudonym"
    """A reference to a person or household: replaced by a keyed pseudonym."""
    COUNTED = "counted"
    """Health, travel and address details (unit, room, status, fever, returns...): never
    per row in a pseudonymous export, only as counts per grid or hexagon."""


@dataclass(frozen=True)
class Field:
    name: str
    sql: str
    kind: FieldKind
    treatment: Treatment = Treatment.KEEP
    pseudonym_of: str | None = None
    """For PSEUDONYM fields: which kind of object the id names (household, resident...)."""


@dataclass(frozen=True)
class Measure:
    """One count of an aggregate: the sum of `row_sql` over the rows of a unit."""

    name: str
    row_sql: str


@dataclass(frozen=True)
class Layer:
    """One exportable layer."""

    name: str
    title: str
    geometry_type: str
    from_sql: str
    fields: tuple[Field, ...]
    geom_sql: str = "t.geom"
    id_sql: str = "t.id"
    bbox_sql: str | None = None
    """The indexed geometry a bbox filters on (default: geom_sql)."""
    personal: bool = False
    id_kind: str | None = None
    """Personal layers: the kind of object the feature id names (for its pseudonym)."""
    grid_sql: str | None = None
    """Personal layers: the grid a row belongs to (scope and aggregation)."""
    time_sql: str | None = None
    """The row's time, for `--as-of` and the OGC `datetime` parameter."""
    time_kind: FieldKind | None = None
    undated_always: bool = False
    """Rows without a time were there all along (residents who never left): `--as-of` keeps
    them; the OGC `datetime` parameter, which selects by the time itself, does not."""
    measures: tuple[Measure, ...] = ()
    """Personal layers: the counts of an aggregate export."""

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def filter_geom_sql(self) -> str:
        return self.bbox_sql or self.geom_sql

    @property
    def time_is_counted(self) -> bool:
        """Whether the row's time is itself a detail published only as counts."""
        return any(f.sql == self.time_sql and f.treatment is Treatment.COUNTED for f in self.fields)


BUILDING_POINT = "ST_PointOnSurface(b.geom)"
GRID_POINT = "ST_PointOnSurface(g.geom)"
"""Where a pseudonymous row of a personal layer stands: a point of its grid, not its home."""
