"""RFC 7946 FeatureCollections of the town's public map layers, composed in PostGIS.

Only objects without personal data are published here: villages, grids, compounds,
entrances, checkpoints, roads, patrol zones and isolation sites, with names, kinds, states
and counts. Residents, households, staff, phone numbers and who changed an entrance are not
in any layer. Layers that change over time (entrance states, compound closure, checkpoint
staffing) are composed as of a moment, `:as_of`, so that a past day can be replayed, by the
coverage report's own replay (`geodata.records.as_of`): entrance states from the same
function, checkpoint states from the same SQL, so the map and the report agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, TextClause, text

from geodata.bbox import BBox
from geodata.exports.layers import LAYERS as EXPORT_LAYERS
from geodata.records.as_of import checkpoint_state_as_of, entrance_states
from geodata.records.town_settings import KEYS

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
    replayed_entrances_sql: str | None = None
    """When the layer reads entrance states as of the moment: the SQL of the ids of the
    entrances it needs (`{in_box}`: the bbox on the table aliased `t`); their states arrive
    as the CTE `replay(id, state)`."""

    @property
    def property_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.properties)


MAP_LAYERS = ("roads", "villages", "grids", "entrances", "checkpoints")
"""The layers drawn on the map, in this order; their SQL is that of the exports."""


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

IN_BOX = "geom && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)"
_ENTRANCES_AS_OF = LayerSource(
    name="entrances",
    title="Entrances",
    geometry_type="Point",
    from_sql="""
        entrances AS t
        JOIN replay AS s ON s.id = t.id
        LEFT JOIN compounds AS c ON c.id = t.compound_id
        LEFT JOIN villages AS v ON v.id = coalesce(t.village_id, c.village_id)
    """,
    as_of=True,
    replayed_entrances_sql="SELECT t.id FROM entrances AS t WHERE {in_box}",
    properties=tuple(
        ("state", "s.state") if name == "state" else (name, sql)
        for name, sql in _EXPORTED["entrances"].properties
    ),
)
"""The exported entrances, with each state replayed as of the moment."""

_TOWN_ZONE = (
    "coalesce((SELECT z.value #>> '{}' FROM town_settings AS z WHERE z.key = 'timezone'),"
    " 'Asia/Shanghai')"
)
_CHECKPOINT_FLAGS = f"""to_json(array_remove(ARRAY[
    CASE WHEN replay.state = 'active' AND coalesce(on_duty.n, 0) < t.staff_per_shift
         THEN 'understaffed' END,
    CASE WHEN replay.state = 'active' AND NOT EXISTS (
             SELECT 1 FROM inspections AS i WHERE i.checkpoint_id = t.id
             AND i.at <= CAST(:as_of AS timestamptz)
             AND i.at >= (date_trunc('day', CAST(:as_of AS timestamptz) AT TIME ZONE {_TOWN_ZONE})
                          AT TIME ZONE {_TOWN_ZONE}))
         THEN 'not_inspected_today' END,
    CASE WHEN EXISTS (
             SELECT 1 FROM rectifications AS r WHERE r.checkpoint_id = t.id
             AND r.status IN ('open', 'fixed') AND r.deadline < CAST(:as_of AS timestamptz))
         THEN 'overdue_items' END
], NULL))"""  # noqa: S608 (constants of this module; the moment is bound)
"""What the map flags at an active checkpoint: fewer people on duty than staff_per_shift at
the moment, no inspection yet on the moment's town-time day, a rectification item past its
deadline still open or not verified (items in their present status)."""

_CHECKPOINTS_STAFFED = LayerSource(
    name="checkpoints",
    title="Checkpoints",
    geometry_type="Point",
    from_sql=f"""
        {EXPORT_LAYERS["checkpoints"].from_sql}
        JOIN LATERAL ({checkpoint_state_as_of("t", ":as_of")}) AS replay ON true
        CROSS JOIN LATERAL (
            SELECT max(sh.staff_count) AS n
            FROM checkpoint_shifts AS sh
            WHERE sh.checkpoint_id = t.id AND sh.starts_at <= :as_of AND sh.ends_at > :as_of
        ) AS on_duty
    """,  # noqa: S608 (layer SQL and as-of fragments written in code; values are bound)
    as_of=True,
    properties=(
        *(
            ("state", "replay.state") if name == "state" else (name, sql)
            for name, sql in _EXPORTED["checkpoints"].properties
        ),
        (
            "staffing",
            """CASE WHEN replay.state = 'closed' THEN 'closed'
                    WHEN coalesce(on_duty.n, 0) >= t.staff_per_shift THEN 'staffed'
                    WHEN coalesce(on_duty.n, 0) > 0 THEN 'understaffed'
                    ELSE 'unstaffed' END""",
        ),
        ("staff_on_duty", "coalesce(on_duty.n, 0)"),
        ("flags", _CHECKPOINT_FLAGS),
    ),
)
"""The exported checkpoints made by the moment, each in its state then (the coverage
report's replay), with the staff on duty at the moment against those required."""

_COMMANDER_LAYERS = (
    LayerSource(
        name="compounds",
        title="Compounds",
        geometry_type="Polygon",
        from_sql="""
            compounds AS t
            LEFT JOIN villages AS v ON v.id = t.village_id
            LEFT JOIN (
                SELECT e.compound_id,
                       count(*) FILTER (WHERE s.state IN ('open', 'checkpoint')) AS open,
                       count(*) FILTER (WHERE s.state = 'sealed') AS sealed
                FROM entrances AS e JOIN replay AS s ON s.id = e.id
                GROUP BY e.compound_id
            ) AS counted ON counted.compound_id = t.id
            CROSS JOIN LATERAL (
                SELECT coalesce(counted.open, 0) AS open, coalesce(counted.sealed, 0) AS sealed
            ) AS ec
        """,
        as_of=True,
        replayed_entrances_sql=(
            "SELECT e.id FROM entrances AS e JOIN compounds AS t ON t.id = e.compound_id "
            "WHERE {in_box}"
        ),
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
            (SELECT * FROM patrol_zones WHERE retired_at IS NULL) AS t
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
        name="patrol_routes",
        title="Patrol routes",
        geometry_type="LineString",
        from_sql="""
            patrol_loops AS t
            JOIN patrol_routes AS r ON r.id = t.route_id AND r.retired_at IS NULL
        """,
        properties=(
            ("zone", "r.zone"),
            ("loop", "t.loop"),
            ("period", "t.period"),
            ("route_m", "round(CAST(t.route_m AS numeric), 1)"),
            ("hours", "round(CAST(t.hours AS numeric), 2)"),
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
compounds with their closure compliance, patrol zones, the loops of the patrol routes not
retired, and isolation sites."""


def _collection_sql(source: LayerSource, *, bbox: bool) -> TextClause:
    """One statement that returns the whole FeatureCollection as JSON text.

    The SQL is made only of the constants above; the bbox arrives as bound parameters.
    ST_ForcePolygonCCW gives the exterior rings the counterclockwise winding RFC 7946 asks
    for, and options 0 keeps the legacy `crs` member out.
    """
    properties = ", ".join(f"'{name}', {expression}" for name, expression in source.properties)
    in_box = f"t.{IN_BOX}"
    where = f"WHERE ({source.where_sql}){f' AND {in_box}' if bbox else ''}"
    replay = (
        "WITH replay AS MATERIALIZED (SELECT * FROM unnest("
        "CAST(:replay_ids AS bigint[]), CAST(:replay_states AS text[])) AS r(id, state))"
        if source.replayed_entrances_sql
        else ""
    )
    return text(
        f"""
        {replay}
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
        """  # noqa: S608 (layer SQL and as-of fragments written in code; values are bound)
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
    moment = as_of if as_of is not None else datetime.now(UTC)
    if source.as_of:
        params["as_of"] = moment
    if source.replayed_entrances_sql:
        which = source.replayed_entrances_sql.format(in_box=f"t.{IN_BOX}" if bbox else "true")
        needed = [int(i) for i in conn.execute(text(which), params).scalars()]
        ids, states = entrance_states(conn, moment, entrance_ids=needed)
        params.update(replay_ids=ids, replay_states=states)
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


_AS_OF_DAY = f"(CAST(:as_of AS timestamptz) AT TIME ZONE {_TOWN_ZONE})::date"
_RECORD_LAYERS = (
    LayerSource(
        name="enterprises",
        title="Enterprises",
        geometry_type="Geometry",
        from_sql=f"""
            enterprises AS t
            JOIN villages AS v ON v.id = t.village_id
            LEFT JOIN LATERAL (
                SELECT r.decision, r.reviewed_on FROM enterprise_reviews AS r
                WHERE r.enterprise_id = t.id AND r.reviewed_on <= {_AS_OF_DAY}
                ORDER BY r.reviewed_on DESC, r.id DESC LIMIT 1
            ) AS last ON true
            CROSS JOIN LATERAL (
                SELECT coalesce(sum(rs.staff), 0) AS n
                FROM enterprise_risk_staff AS rs WHERE rs.enterprise_id = t.id
            ) AS risk
        """,  # noqa: S608 (constants of this module; the moment is bound)
        as_of=True,
        properties=(
            ("name", "t.name"),
            ("kind", "t.kind"),
            ("review", "coalesce(last.decision, 'pending')"),
            ("reviewed_on", "last.reviewed_on"),
            ("staff_total", "t.staff_total"),
            ("staff_local", "t.staff_local"),
            ("staff_from_risk_areas", "risk.n"),
            ("village", "v.name"),
        ),
    ),
    LayerSource(
        name="publicity_points",
        title="Publicity points",
        geometry_type="Geometry",
        from_sql="publicity_points AS t JOIN villages AS v ON v.id = t.village_id",
        as_of=True,
        where_sql=f"t.put_up_on <= {_AS_OF_DAY}",
        properties=(
            ("kind", "t.kind"),
            ("content", "t.content"),
            ("put_up_on", "t.put_up_on"),
            ("last_checked_at", "t.last_checked_at"),
            (
                "check",
                f"""CASE WHEN coalesce(t.last_checked_at,
                        t.put_up_on::timestamp AT TIME ZONE {_TOWN_ZONE})
                        < CAST(:as_of AS timestamptz) - interval '7 days'
                    THEN 'unchecked' ELSE 'checked' END""",
            ),
            ("village", "v.name"),
        ),
    ),
)
"""Enterprises by their review state as of the moment's town-time day (`pending` before any
review), and the publicity points put up by then, `unchecked` when their last check (else the
day put up) is more than 7 days before the moment. Neither carries personal data: not the
responsible person, not the passes."""
LAYERS.update({source.name: source for source in _RECORD_LAYERS})

_GRACE_DEFAULT = int(KEYS["disinfection_grace_minutes"].default)
_GRACE = (
    "coalesce((SELECT (value #>> '{}')::int FROM town_settings"  # noqa: S608 (a constant)
    f" WHERE key = 'disinfection_grace_minutes'), {_GRACE_DEFAULT})"
)
_STOCK_BY_DAY = (
    "coalesce((SELECT sum(e.quantity) FROM ledger_entries AS e WHERE e.{side} = th.holder_id"
    " AND e.item_id = th.item_id AND e.day <= {day}), 0)"
)
_LOW_STOCK = (
    "(SELECT th.minimum > "  # noqa: S608 (constants of this module)
    + _STOCK_BY_DAY.format(side="to_holder_id", day=_AS_OF_DAY)
    + " - "
    + _STOCK_BY_DAY.format(side="from_holder_id", day=_AS_OF_DAY)
    + " AS low, i.code FROM supply_thresholds AS th"
    " JOIN supply_items AS i ON i.id = th.item_id WHERE th.holder_id = t.id)"
)
_DUTY_LAYERS = (
    LayerSource(
        name="disinfection_places",
        title="Disinfection places",
        geometry_type="Point",
        from_sql=f"""
            (SELECT p.id, p.name, p.kind, p.rounds_per_day, p.village_id, p.created_at,
                    coalesce(p.geom, k.geom) AS geom
             FROM disinfection_places AS p LEFT JOIN checkpoints AS k ON k.id = p.checkpoint_id
            ) AS t
            LEFT JOIN villages AS v ON v.id = t.village_id
            LEFT JOIN LATERAL (
                SELECT max(r.at) AS last_at, min(r.at) AS first_at FROM disinfection_rounds AS r
                WHERE r.place_id = t.id AND r.at <= CAST(:as_of AS timestamptz)
            ) AS rounds ON true
            CROSS JOIN LATERAL (
                SELECT coalesce(rounds.last_at, least(t.created_at, rounds.first_at))
                    + interval '24 hours' / t.rounds_per_day
                    + make_interval(mins => {_GRACE}) AS due_at
            ) AS due
        """,  # noqa: S608 (constants of this module; the moment is bound)
        as_of=True,
        where_sql="least(t.created_at, rounds.first_at) <= CAST(:as_of AS timestamptz)",
        properties=(
            ("name", "t.name"),
            ("kind", "t.kind"),
            ("rounds_per_day", "t.rounds_per_day"),
            ("last_round_at", "rounds.last_at"),
            ("due_at", "due.due_at"),
            (
                "round",
                "CASE WHEN CAST(:as_of AS timestamptz) > due.due_at THEN 'overdue' ELSE 'done' END",
            ),
            ("village", "v.name"),
        ),
    ),
    LayerSource(
        name="supply_holders",
        title="Supplies below threshold",
        geometry_type="Point",
        from_sql=f"""
            (SELECT h.id, h.source_id, h.kind,
                    coalesce(k.name, s.name, tm.name, h.source_id) AS name,
                    coalesce(k.geom, s.geom, ST_PointOnSurface(tv.geom)) AS geom,
                    coalesce(k.village_id, tm.village_id) AS village_id
             FROM supply_holders AS h
             LEFT JOIN checkpoints AS k ON h.kind = 'checkpoint' AND k.id = h.ref_id
             LEFT JOIN isolation_sites AS s ON h.kind = 'isolation_site' AND s.id = h.ref_id
             LEFT JOIN teams AS tm ON h.kind = 'team' AND tm.id = h.ref_id
             LEFT JOIN villages AS tv ON tv.id = tm.village_id
            ) AS t
            LEFT JOIN villages AS v ON v.id = t.village_id
            CROSS JOIN LATERAL (
                SELECT count(*) FILTER (WHERE x.low) AS low,
                       string_agg(x.code, ', ' ORDER BY x.code) FILTER (WHERE x.low) AS items
                FROM {_LOW_STOCK} AS x
            ) AS stock
        """,  # noqa: S608 (constants of this module; the moment is bound)
        as_of=True,
        where_sql="t.geom IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM supply_thresholds AS th WHERE th.holder_id = t.id)",
        properties=(
            ("name", "t.name"),
            ("holder", "t.source_id"),
            ("holder_kind", "t.kind"),
            ("items_below", "stock.items"),
            ("stock", "CASE WHEN stock.low > 0 THEN 'low' ELSE 'ok' END"),
            ("village", "v.name"),
        ),
    ),
)
"""Disinfection places (at their point, else their checkpoint's) `overdue` when the moment is
past their last round by then (else their start) plus 24 h over their rounds a day and the
grace; and the holders of supplies with thresholds (a checkpoint or isolation site at its
point, a team at a point of its village) `low` when an item's stock at the end of the
moment's town-time day is below its threshold. Neither carries personal data."""
LAYERS.update({source.name: source for source in _DUTY_LAYERS})
