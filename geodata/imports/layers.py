"""What each importable layer holds: its table, geometry type, fields and links to other layers.

Fields are matched by name (exactly, else ignoring case and surrounding spaces). Every layer
has `source_id` (or the field named with `--id-field`): the key an import upserts by. A field
ending in `_source_id` is a link: it names a row of another table by that table's source id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from geodata.imports.report import Layer
from geodata.vocab import (
    CheckpointKind,
    CheckpointState,
    Closure,
    CompoundKind,
    EntranceState,
    HouseholdStatus,
    Period,
    StaffRole,
    TeamKind,
    VillageKind,
    VisitResult,
)

SOURCE_ID_MAX = 128
EXTENT_MARGIN_M = 5000.0
"""Features farther than this beyond the villages already loaded are refused."""
ENTRANCE_REACH_M = 30.0
"""An entrance without a named owner belongs to the nearest compound within this distance."""


class FieldType(enum.StrEnum):
    TEXT = "text"
    INT = "integer"
    FLOAT = "number"
    BOOL = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    CHOICE = "choice"


SQL_TYPES: dict[FieldType, str] = {
    FieldType.TEXT: "text",
    FieldType.INT: "integer",
    FieldType.FLOAT: "double precision",
    FieldType.BOOL: "boolean",
    FieldType.DATE: "date",
    FieldType.DATETIME: "timestamptz",
    FieldType.CHOICE: "text",
}


class GeometryKind(enum.StrEnum):
    POLYGON = "Polygon"
    """Stored as Polygon; a MultiPolygon of one part is accepted."""
    MULTIPOLYGON = "MultiPolygon"
    """Polygon or MultiPolygon, stored as MultiPolygon."""
    LINESTRING = "LineString"
    """Stored as LineString; a MultiLineString whose parts join end to end into one line is
    accepted (merged), any other MultiLineString is refused: split it into one feature per part."""
    POINT = "Point"
    """Stored as Point; a MultiPoint of one point is accepted."""

    @property
    def polygonal(self) -> bool:
        return self in (GeometryKind.POLYGON, GeometryKind.MULTIPOLYGON)


Scalar = str | int | float | bool


@dataclass(frozen=True, kw_only=True)
class FieldSpec:
    """One field of a layer's file: its name, type, whether it must be there, and its rules."""

    name: str
    type: FieldType
    help: str
    required: bool = False
    column: str | None = None
    """The table column written (default: the name); for a link, the id column it resolves to."""
    link: str | None = None
    """The table whose source id this field names."""
    link_key: str = "source_id"
    """The column of `link` the value names (villages and grids: also by `code`)."""
    deferred: bool = False
    """A link to the layer's own table: it may name a row of the same file, so it is resolved
    and checked after the upsert (a team's parent)."""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    above: float | None = None
    """Exclusive lower bound (radius_m > 0)."""
    maximum: float | None = None
    max_length: int | None = None
    default: Scalar | None = None
    """Written when the field is absent or empty."""
    personal: bool = False
    """Never echoed in a reason: the report names the row and field only."""
    unique: bool = False
    """Unique in the table as well as the file (codes)."""
    identifier: bool = False
    """A code: printable text without < > " ' or control characters (geodata.identifiers)."""
    keep_when_missing: bool = False
    """Absent or empty: a new row gets the time of the import, an existing row keeps its value."""

    @property
    def target(self) -> str:
        return self.column or self.name

    def describe(self) -> str:
        """One line for `--help` and docs/IMPORT.md."""
        kind = f"one of {', '.join(self.choices)}" if self.choices else self.type.value
        rules = []
        if self.minimum is not None:
            rules.append(f">= {self.minimum:g}")
        if self.above is not None:
            rules.append(f"> {self.above:g}")
        if self.maximum is not None:
            rules.append(f"<= {self.maximum:g}")
        if self.max_length is not None:
            rules.append(f"at most {self.max_length} characters")
        if self.link is not None:
            key = self.link_key.replace("_", " ")
            rules.append(f"a {key} of {self.link}")
        if self.identifier:
            rules.append("no < > \" ' or control characters")
        if self.unique:
            rules.append("unique")
        if self.default is not None:
            rules.append(f"default {str(self.default).lower()}")
        need = "required" if self.required else "optional"
        extra = f"; {', '.join(rules)}" if rules else ""
        return f"{self.name} ({kind}, {need}{extra}): {self.help}"


@dataclass(frozen=True, kw_only=True)
class SpatialLink:
    """A link column derived from the geometry when the file does not name the row."""

    column: str
    table: str
    near_m: float | None = None
    """None: the row of `table` containing the feature's ST_PointOnSurface; else the nearest
    row of `table` within this distance."""
    unless: tuple[str, ...] = ()
    """Not derived when any of these columns is set (an entrance has one owner)."""
    required: bool = False
    """A row for which nothing is found is refused."""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Follow:
    """A column copied from the linked parent row, so that it stays in step with the parent."""

    column: str
    via: str
    """The link column naming the parent (building_id)."""
    table: str


@dataclass(frozen=True, kw_only=True)
class LayerSpec:
    layer: Layer
    table: str
    geometry: GeometryKind | None
    fields: tuple[FieldSpec, ...]
    spatial: tuple[SpatialLink, ...] = ()
    follows: tuple[Follow, ...] = ()
    notes: str = ""
    key: tuple[str, ...] = ()
    """A table without source ids (shift-staff): the link fields whose pair keys a row."""
    staged: bool = False
    """Always through the staging table, where rules across rows and tables are checked."""
    timestamps: bool = True
    """The table has `updated_at` (checkpoint_shifts has only `version`)."""
    insert_defaults: tuple[tuple[str, str], ...] = ()
    """(column, SQL) written into new rows only (a shift's head count starts at 0)."""

    @property
    def link_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.link is not None)

    @property
    def id_columns(self) -> tuple[str, ...]:
        """Bigint columns the staging table resolves: links, spatial links and follows."""
        names = [f.target for f in self.link_fields]
        names += [s.column for s in self.spatial] + [f.column for f in self.follows]
        return tuple(dict.fromkeys(names))

    @property
    def columns(self) -> tuple[str, ...]:
        """The table columns an import writes, besides source_id."""
        plain = [f.target for f in self.fields if f.link is None]
        geom = ["geom"] if self.geometry is not None else []
        return tuple(dict.fromkeys([*plain, *self.id_columns, *geom]))


def _name(*, required: bool = False) -> FieldSpec:
    return FieldSpec(name="name", type=FieldType.TEXT, required=required, help="display name")


def _choice(name: str, values: type[enum.StrEnum], help: str, **kw: object) -> FieldSpec:
    return FieldSpec(
        name=name,
        type=FieldType.CHOICE,
        choices=tuple(v.value for v in values),
        help=help,
        **kw,  # type: ignore[arg-type]
    )


def _link(name: str, table: str, column: str, help: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(
        name=name,
        type=FieldType.TEXT,
        link=table,
        column=column,
        required=required,
        max_length=SOURCE_ID_MAX,
        help=help,
    )


def _by_code(name: str, table: str, column: str, help: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(
        name=name,
        type=FieldType.TEXT,
        link=table,
        link_key="code",
        column=column,
        required=required,
        max_length=32,
        help=help,
    )


def _responsible(name: str, column: str, help: str) -> FieldSpec:
    return _link(name, "staff", column, help)


def _village_inside(*, required: bool = False) -> SpatialLink:
    return SpatialLink(
        column="village_id",
        table="villages",
        required=required,
        reason="no village contains it: give village_source_id",
    )


_CODE = FieldSpec(
    name="code",
    type=FieldType.TEXT,
    required=True,
    max_length=32,
    unique=True,
    identifier=True,
    help="short code",
)
_VILLAGE_LINK = _link(
    "village_source_id", "villages", "village_id", "the village (else: the one containing it)"
)

LAYERS: dict[Layer, LayerSpec] = {
    Layer.VILLAGES: LayerSpec(
        layer=Layer.VILLAGES,
        table="villages",
        geometry=GeometryKind.MULTIPOLYGON,
        fields=(
            _name(required=True),
            _CODE,
            _choice("kind", VillageKind, "kind of settlement", default="village"),
            FieldSpec(name="population", type=FieldType.INT, minimum=0, help="people living"),
            _responsible("secretary_source_id", "secretary_id", "the village secretary (staff)"),
        ),
        notes="The 5 km extent check does not apply to villages (they define the extent); "
        "latitude/longitude swaps are still detected against the villages already loaded.",
    ),
    Layer.GRIDS: LayerSpec(
        layer=Layer.GRIDS,
        table="grids",
        geometry=GeometryKind.MULTIPOLYGON,
        fields=(
            _CODE,
            _name(),
            _VILLAGE_LINK,
            _responsible("leader_source_id", "leader_id", "the grid leader (staff)"),
        ),
        spatial=(_village_inside(required=True),),
    ),
    Layer.COMPOUNDS: LayerSpec(
        layer=Layer.COMPOUNDS,
        table="compounds",
        geometry=GeometryKind.POLYGON,
        fields=(
            _name(),
            _choice("kind", CompoundKind, "kind of compound", default="residential_compound"),
            _choice("closure", Closure, "whether it can be sealed", default="open"),
            _VILLAGE_LINK,
            _responsible("head_source_id", "head_id", "the yard head (staff)"),
        ),
        spatial=(_village_inside(),),
    ),
    Layer.BUILDINGS: LayerSpec(
        layer=Layer.BUILDINGS,
        table="buildings",
        geometry=GeometryKind.POLYGON,
        fields=(
            _name(),
            FieldSpec(name="floors", type=FieldType.INT, minimum=1, maximum=200, help="storeys"),
            FieldSpec(name="use", type=FieldType.TEXT, max_length=64, help="what it is used for"),
            _link("grid_source_id", "grids", "grid_id", "its grid (else: the grid containing it)"),
            _link(
                "compound_source_id",
                "compounds",
                "compound_id",
                "its compound (else: the compound containing it)",
            ),
            _responsible("head_source_id", "head_id", "the building head (staff)"),
        ),
        spatial=(
            SpatialLink(column="grid_id", table="grids"),
            SpatialLink(column="compound_id", table="compounds"),
        ),
        notes="Households in these buildings follow a building's new grid.",
    ),
    Layer.ROADS: LayerSpec(
        layer=Layer.ROADS,
        table="roads",
        geometry=GeometryKind.LINESTRING,
        fields=(
            FieldSpec(
                name="highway",
                type=FieldType.TEXT,
                required=True,
                max_length=32,
                help="road class (OpenStreetMap highway=*)",
            ),
            _name(),
        ),
    ),
    Layer.ENTRANCES: LayerSpec(
        layer=Layer.ENTRANCES,
        table="entrances",
        geometry=GeometryKind.POINT,
        fields=(
            _name(),
            _choice("state", EntranceState, "open, sealed or staffed", default="open"),
            FieldSpec(
                name="since",
                type=FieldType.DATETIME,
                keep_when_missing=True,
                help="when the state began (ISO 8601 with offset)",
            ),
            _link("compound_source_id", "compounds", "compound_id", "the compound it opens"),
            _link("village_source_id", "villages", "village_id", "the village it opens"),
        ),
        spatial=(
            SpatialLink(
                column="compound_id",
                table="compounds",
                near_m=ENTRANCE_REACH_M,
                unless=("village_id",),
            ),
            SpatialLink(
                column="village_id",
                table="villages",
                unless=("compound_id",),
                required=True,
                reason=f"no compound within {ENTRANCE_REACH_M:g} m and no village contains it: "
                "give compound_source_id or village_source_id",
            ),
        ),
        notes="An entrance belongs to one compound or one village: give at most one of "
        f"compound_source_id and village_source_id; with neither, the nearest compound within "
        f"{ENTRANCE_REACH_M:g} m, else the village containing it.",
    ),
    Layer.CHECKPOINTS: LayerSpec(
        layer=Layer.CHECKPOINTS,
        table="checkpoints",
        geometry=GeometryKind.POINT,
        fields=(
            _name(required=True),
            _choice("kind", CheckpointKind, "where it stands", required=True),
            _choice("state", CheckpointState, "staffed or not", default="active"),
            FieldSpec(
                name="radius_m",
                type=FieldType.FLOAT,
                required=True,
                above=0,
                help="radius it controls, metres",
            ),
            FieldSpec(
                name="staff_per_shift",
                type=FieldType.INT,
                minimum=1,
                default=1,
                help="people on each shift",
            ),
            _VILLAGE_LINK,
            _link("entrance_source_id", "entrances", "entrance_id", "the entrance it guards"),
        ),
        spatial=(_village_inside(),),
    ),
    Layer.PATROL_ZONES: LayerSpec(
        layer=Layer.PATROL_ZONES,
        table="patrol_zones",
        geometry=GeometryKind.MULTIPOLYGON,
        fields=(
            _name(required=True),
            _choice("period", Period, "day or night", required=True),
            _link("team_source_id", "teams", "team_id", "the patrol team"),
            _VILLAGE_LINK,
        ),
        spatial=(_village_inside(),),
    ),
    Layer.ISOLATION_SITES: LayerSpec(
        layer=Layer.ISOLATION_SITES,
        table="isolation_sites",
        geometry=GeometryKind.POINT,
        fields=(
            _name(required=True),
            FieldSpec(name="beds", type=FieldType.INT, required=True, minimum=0, help="beds"),
            FieldSpec(
                name="reserve_rooms",
                type=FieldType.INT,
                minimum=0,
                default=0,
                help="rooms held in reserve",
            ),
        ),
    ),
    Layer.HOUSEHOLDS: LayerSpec(
        layer=Layer.HOUSEHOLDS,
        table="households",
        geometry=None,
        fields=(
            _link(
                "building_source_id",
                "buildings",
                "building_id",
                "the building it lives in",
                required=True,
            ),
            FieldSpec(name="unit", type=FieldType.TEXT, max_length=32, help="entrance or unit"),
            FieldSpec(name="room", type=FieldType.TEXT, max_length=32, help="room number"),
            FieldSpec(
                name="members",
                type=FieldType.INT,
                required=True,
                minimum=0,
                help="people in the household",
            ),
            _choice("status", HouseholdStatus, "household status", default="normal"),
        ),
        follows=(Follow(column="grid_id", via="building_id", table="buildings"),),
        notes="The grid is the building's. Residents and visits follow a household's new grid.",
    ),
    Layer.RESIDENTS: LayerSpec(
        layer=Layer.RESIDENTS,
        table="residents",
        geometry=None,
        fields=(
            _link(
                "household_source_id",
                "households",
                "household_id",
                "the household",
                required=True,
            ),
            FieldSpec(name="name", type=FieldType.TEXT, personal=True, help="full name"),
            FieldSpec(
                name="id_number",
                type=FieldType.TEXT,
                max_length=32,
                personal=True,
                help="identity card number",
            ),
            FieldSpec(
                name="phone", type=FieldType.TEXT, max_length=32, personal=True, help="phone"
            ),
            FieldSpec(
                name="returnee",
                type=FieldType.BOOL,
                default=False,
                help="came back from elsewhere (then origin and returned_on are required)",
            ),
            FieldSpec(name="origin", type=FieldType.TEXT, help="where a returnee came from"),
            FieldSpec(name="returned_on", type=FieldType.DATE, help="day of return"),
            FieldSpec(
                name="close_contact", type=FieldType.BOOL, default=False, help="close contact"
            ),
            FieldSpec(name="fever", type=FieldType.BOOL, default=False, help="has fever"),
            FieldSpec(name="quarantine_until", type=FieldType.DATE, help="last day of quarantine"),
        ),
        follows=(Follow(column="grid_id", via="household_id", table="households"),),
        notes="The grid is the household's. Booleans: true/false, yes/no, 1/0.",
    ),
    Layer.VISITS: LayerSpec(
        layer=Layer.VISITS,
        table="visits",
        geometry=None,
        fields=(
            _link(
                "household_source_id",
                "households",
                "household_id",
                "the household visited",
                required=True,
            ),
            FieldSpec(
                name="visited_at",
                type=FieldType.DATETIME,
                required=True,
                help="when (ISO 8601 with offset, e.g. 2026-02-01T09:30:00+08:00)",
            ),
            _choice("result", VisitResult, "who was seen", required=True),
            _link("worker_source_id", "staff", "worker_id", "the grid worker"),
            FieldSpec(
                name="fever_count",
                type=FieldType.INT,
                minimum=0,
                default=0,
                help="people with fever",
            ),
        ),
        follows=(Follow(column="grid_id", via="household_id", table="households"),),
        notes="The grid is the household's.",
    ),
    Layer.TEAMS: LayerSpec(
        layer=Layer.TEAMS,
        table="teams",
        geometry=None,
        fields=(
            _name(required=True),
            _choice("kind", TeamKind, "combat unit or one of its groups", required=True),
            _by_code("village_code", "villages", "village_id", "its village", required=True),
            FieldSpec(
                name="parent_source_id",
                type=FieldType.TEXT,
                link="teams",
                column="parent_id",
                deferred=True,
                max_length=SOURCE_ID_MAX,
                help="a group's combat unit (a team of this file or already loaded)",
            ),
        ),
        staged=True,
        notes="A group's parent is a combat unit of the same village; a combat unit has none.",
    ),
    Layer.STAFF: LayerSpec(
        layer=Layer.STAFF,
        table="staff",
        geometry=None,
        fields=(
            FieldSpec(
                name="name", type=FieldType.TEXT, required=True, personal=True, help="full name"
            ),
            _choice("role", StaffRole, "what the person does", required=True),
            _by_code("village_code", "villages", "village_id", "their village", required=True),
            _link("team_source_id", "teams", "team_id", "their team"),
            _by_code("grid_code", "grids", "grid_id", "their grid"),
            FieldSpec(
                name="phone", type=FieldType.TEXT, max_length=32, personal=True, help="phone"
            ),
        ),
        staged=True,
        notes="Personal data: names and phones are never echoed in a report. The team and the "
        "grid are of the person's village; a person on shifts stays in the village of their "
        "checkpoints.",
    ),
    Layer.SHIFTS: LayerSpec(
        layer=Layer.SHIFTS,
        table="checkpoint_shifts",
        geometry=None,
        fields=(
            _link(
                "checkpoint_source_id",
                "checkpoints",
                "checkpoint_id",
                "the checkpoint kept (or patrol_zone_source_id)",
            ),
            _link(
                "patrol_zone_source_id",
                "patrol_zones",
                "patrol_zone_id",
                "the patrol zone patrolled (or checkpoint_source_id)",
            ),
            FieldSpec(
                name="starts_at",
                type=FieldType.DATETIME,
                required=True,
                help="start (ISO 8601 with offset)",
            ),
            FieldSpec(
                name="ends_at",
                type=FieldType.DATETIME,
                required=True,
                help="end (ISO 8601 with offset): after the start, at most 24 h later",
            ),
        ),
        staged=True,
        timestamps=False,
        insert_defaults=(("staff_count", "0"),),
        notes="A shift is at a checkpoint or on a patrol zone: one of the two links. The head "
        "count follows the people of the shift (the shift-staff layer).",
    ),
    Layer.SHIFT_STAFF: LayerSpec(
        layer=Layer.SHIFT_STAFF,
        table="shift_staff",
        geometry=None,
        fields=(
            _link("shift_source_id", "checkpoint_shifts", "shift_id", "the shift", required=True),
            _link("staff_source_id", "staff", "staff_id", "the person", required=True),
        ),
        key=("shift_source_id", "staff_source_id"),
        staged=True,
        notes="No source_id: a row is keyed by its pair (a pair already there is unchanged; an "
        "import never takes anyone off a shift). Nobody is on two overlapping shifts, and "
        "nobody on a shift of a checkpoint or a patrol zone of another village.",
    ),
}
"""Every importable layer."""

CASCADES: dict[str, tuple[tuple[str, str], ...]] = {
    "buildings": (("households", "building_id"),),
    "households": (("residents", "household_id"), ("visits", "household_id")),
}
"""After an import of the key table, these (table, link column) rows take their parent's grid."""


def layer_help(spec: LayerSpec) -> str:
    """The fields of one layer, for `wangge import LAYER --help` and docs/IMPORT.md."""
    geometry = spec.geometry.value if spec.geometry is not None else "none (a table: CSV)"
    lines = [f"Geometry: {geometry}.", "", "Fields:", ""]
    if not spec.key:
        lines.append(
            "  source_id (text, required; unique in the file; at most 128 characters; "
            "no < > \" ' or control characters; or the field named by --id-field): "
            "the key re-imports update by"
        )
    lines += [f"  {f.describe()}" for f in spec.fields]
    if spec.notes:
        lines += ["", spec.notes]
    return "\n".join(lines)
