"""RFC 7946 FeatureCollections of the town's public map layers, composed in PostGIS.

Only objects without personal data are published here: villages, grids, compounds,
entrances, checkpoints, roads, patrol zones and isolation sites, with names, kinds, states
and counts. Residents, households, staff, phone numbers and who changed an entrance are not
in any layer. Layers that change over time (entrance states, compound closure, checkpoint
staffing) are composed as of a moment, `:as_of`, so that a past day can be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, TextClause, text

from geodata.bbox import BBox
from geodata.exports.layers import LAYERS as EXPORT_LAYERS

GEOJSON_DECIMALS = 7
"""Seven decimals of a degree are about 1 cm: finer digits would be noise (RFC 7946 §11.2)."""


@dataclass(frozen=True)
class LayerSource:
    """One layer: the rows it reads (the table with `geom` is aliased `t`) and what it shows."""

    name: str
    title: str
    geometry_type: str
    from_sql: str
    properties: tuple[tuple[str, str], ...]
    """(property name, SQL expression) pairs, in the order they are published."""
    where_sql: str = "true"
    """A condition on the rows (may use `:as_of`)."""
    as_of: bool = False
    """Whether the SQL reads the moment `:as_of`."""

    @property
    def property_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.properties)


MAP_LAYERS = ("roads", "villages", "grids", "entrances", "checkpoints")
"""The layers drawn on the map, in this order; their SQL is that of the exports."""


def _entrance_state_as_of(entrance: str) -> str:
    """The state of `entrance` (an alias of entrances) at `:as_of`, NULL before it existed.

    The latest event at or before the moment gives the state; before the first event, that
    event's `from_state`; an entrance without events has its current state from `since` on.
    """
    return f"""
        CASE
            WHEN NOT EXISTS (SELECT 1 FROM entrance_events AS x WHERE x.entrance_id = {entrance}.id)
                THEN CASE WHEN {entrance}.since <= :as_of THEN {entrance}.state::text END
            ELSE coalesce(
                (SELECT x.to_state::text FROM entrance_events AS x
                 WHERE x.entrance_id = {entrance}.id AND x.at <= :as_of
                 ORDER BY x.at DESC, x.id DESC LIMIT 1),
                (SELECT x.from_state::text FROM entrance_events AS x
                 WHERE x.entrance_id = {entrance}.id AND x.at > :as_of
                 ORDER BY x.at, x.id LIMIT 1)
            )
        END
    """


_EXPORTED: dict[str, LayerSource] = {
    layer.name: LayerSource(
        name=layer.name,
        title=layer.title,
        geometry_type=layer.geometry_type,
        from_sql=layer.from_sql,
        properties=tuple((f.name, f.sql) for f in layer.fields),
    )
    for layer in (EXPORT_LAYERS[name] for name in MAP_LAYERS)
}

_ENTRANCES_AS_OF = LayerSource(
    name="entrances",
    title="Entrances",
    geometry_type="Point",
    from_sql=f"""
        entrances AS t
        CROSS JOIN LATERAL (SELECT {_entrance_state_as_of("t")} AS state) AS s
        LEFT JOIN compounds AS c ON c.id = t.compound_id
        LEFT JOIN villages AS v ON v.id = coalesce(t.village_id, c.village_id)
    """,
    where_sql="s.state IS NOT NULL",
    as_of=True,
    properties=tuple(
        ("state", "s.state") if name == "state" else (name, sql)
        for name, sql in _EXPORTED["entrances"].properties
    ),
)
"""The exported entrances, with each state replayed as of the moment."""

_CHECKPOINTS_STAFFED = LayerSource(
    name="checkpoints",
    title="Checkpoints",
    geometry_type="Point",
    from_sql=f"""
        {EXPORT_LAYERS["checkpoints"].from_sql}
        CROSS JOIN LATERAL (
            SELECT max(sh.staff_count) AS n
            FROM checkpoint_shifts AS sh
            WHERE sh.checkpoint_id = t.id AND sh.starts_at <= :as_of AND sh.ends_at > :as_of
        ) AS on_duty
    """,
    as_of=True,
    properties=(
        *_EXPORTED["checkpoints"].properties,
        (
            "staffing",
            """CASE WHEN t.state = 'closed' THEN 'closed'
                    WHEN coalesce(on_duty.n, 0) >= t.staff_per_shift THEN 'staffed'
                    WHEN coalesce(on_duty.n, 0) > 0 THEN 'understaffed'
                    ELSE 'unstaffed' END""",
        ),
        ("staff_on_duty", "coalesce(on_duty.n, 0)"),
    ),
)
"""The exported checkpoints, with the staff on duty at the moment against those required."""

_COMMANDER_LAYERS = (
    LayerSource(
        name="compounds",
        title="Compounds",
        geometry_type="Polygon",
        from_sql=f"""
            compounds AS t
            LEFT JOIN villages AS v ON v.id = t.village_id
            CROSS JOIN LATERAL (
                SELECT count(*) FILTER (WHERE s.state IN ('open', 'checkpoint')) AS open,
                       count(*) FILTER (WHERE s.state = 'sealed') AS sealed
                FROM entrances AS e
                CROSS JOIN LATERAL (SELECT {_entrance_state_as_of("e")} AS state) AS s
                WHERE e.compound_id = t.id
            ) AS ec
        """,
        as_of=True,
        properties=(
            ("name", "t.name"),
            ("kind", "t.kind"),
            ("closure", "t.closure"),
            (
                "compliance",
                """CASE WHEN ec.open = 0 THEN 'no_open_entrance'
                        WHEN ec.open = 1 THEN 'compliant'
                        ELSE 'breach' END""",
            ),
            ("open_entrances", "ec.open"),
            ("sealed_entrances", "ec.sealed"),
            ("village", "v.name"),
        ),
    ),
    LayerSource(
        name="patrol_zones",
        title="Patrol zones",
        geometry_type="MultiPolygon",
        from_sql="""
            patrol_zones AS t
            LEFT JOIN teams AS tm ON tm.id = t.team_id
            LEFT JOIN villages AS v ON v.id = t.village_id
        """,
        properties=(
            ("name", "t.name"),
            ("period", "t.period"),
            ("team", "tm.name"),
            ("team_id", "t.team_id"),
            ("village", "v.name"),
        ),
    ),
    LayerSource(
        name="isolation_sites",
        title="Isolation sites",
        geometry_type="Point",
        from_sql="isolation_sites AS t",
        properties=(
            ("name", "t.name"),
            ("beds", "t.beds"),
            ("beds_used", "t.beds_used"),
            ("beds_free", "t.beds - t.beds_used"),
            ("reserve_rooms", "t.reserve_rooms"),
        ),
    ),
)

LAYERS: dict[str, LayerSource] = {
    **_EXPORTED,
    "entrances": _ENTRANCES_AS_OF,
    "checkpoints": _CHECKPOINTS_STAFFED,
    **{source.name: source for source in _COMMANDER_LAYERS},
}
"""The map's layers: the exported ones (entrances and checkpoints as of a moment), then
compounds with their closure compliance, patrol zones and isolation sites."""


def _collection_sql(source: LayerSource, *, bbox: bool) -> TextClause:
    """One statement that returns the whole FeatureCollection as JSON text.

    The SQL is made only of the constants above; the bbox arrives as bound parameters.
    ST_ForcePolygonCCW gives the exterior rings the counterclockwise winding RFC 7946 asks
    for, and options 0 keeps the legacy `crs` member out.
    """
    properties = ", ".join(f"'{name}', {expression}" for name, expression in source.properties)
    in_box = "t.geom && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)"
    where = f"WHERE ({source.where_sql}){f' AND {in_box}' if bbox else ''}"
    return text(
        f"""
        SELECT json_build_object(
            'type', 'FeatureCollection',
            'features', coalesce(json_agg(f.feature ORDER BY f.id), '[]'::json)
        )::text
        FROM (
            SELECT t.id,
                   json_build_object(
                       'type', 'Feature',
                       'id', t.id,
                       'geometry',
                       ST_AsGeoJSON(ST_ForcePolygonCCW(t.geom), {GEOJSON_DECIMALS}, 0)::json,
                       'properties', json_build_object({properties})
                   ) AS feature
            FROM {source.from_sql}
            {where}
        ) AS f
        """
    )


def feature_collection(
    conn: Connection,
    source: LayerSource,
    *,
    bbox: BBox | None = None,
    as_of: datetime | None = None,
) -> str:
    """The layer's features (those whose bounding box meets `bbox`, if given) as GeoJSON text.

    Layers that change over time show the town as of `as_of` (default: now).
    """
    params: dict[str, object] = (
        {}
        if bbox is None
        else {
            "min_lon": bbox.min_lon,
            "min_lat": bbox.min_lat,
            "max_lon": bbox.max_lon,
            "max_lat": bbox.max_lat,
        }
    )
    if source.as_of:
        params["as_of"] = as_of if as_of is not None else datetime.now(UTC)
    body: str = conn.execute(_collection_sql(source, bbox=bbox is not None), params).scalar_one()
    return body


def town_extent(conn: Connection) -> BBox | None:
    """The box around the villages, grids, entrances and checkpoints; None when there are none."""
    row = conn.execute(
        text(
            """
            SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
            FROM (
                SELECT ST_Extent(geom) AS e
                FROM (
                    SELECT geom FROM villages
                    UNION ALL SELECT geom FROM grids
                    UNION ALL SELECT geom FROM entrances
                    UNION ALL SELECT geom FROM checkpoints
                ) AS everything
            ) AS extent
            """
        )
    ).one()
    if row[0] is None:
        return None
    return BBox(float(row[0]), float(row[1]), float(row[2]), float(row[3]))
