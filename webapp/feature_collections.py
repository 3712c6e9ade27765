"""RFC 7946 FeatureCollections of the town's public map layers, composed in PostGIS.

Only objects without personal data are published here: villages, grids, entrances,
checkpoints and roads, with names, kinds, states and counts. Residents, households, staff,
phone numbers and who changed an entrance are not in any layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, TextClause, text

from webapp.bbox import BBox

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

    @property
    def property_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.properties)


LAYERS: dict[str, LayerSource] = {
    source.name: source
    for source in (
        LayerSource(
            name="roads",
            title="Roads",
            geometry_type="LineString",
            from_sql="roads AS t",
            properties=(("highway", "t.highway"), ("name", "t.name")),
        ),
        LayerSource(
            name="villages",
            title="Villages",
            geometry_type="MultiPolygon",
            from_sql="""
                villages AS t
                CROSS JOIN LATERAL (
                    SELECT count(*) AS n FROM grids AS g WHERE g.village_id = t.id
                ) AS grid_count
                CROSS JOIN LATERAL (
                    SELECT count(*) FILTER (WHERE e.state = 'open') AS open,
                           count(*) FILTER (WHERE e.state = 'sealed') AS sealed,
                           count(*) FILTER (WHERE e.state = 'checkpoint') AS checkpoint
                    FROM entrances AS e
                    LEFT JOIN compounds AS c ON c.id = e.compound_id
                    WHERE e.village_id = t.id OR c.village_id = t.id
                ) AS entrance_count
                CROSS JOIN LATERAL (
                    SELECT count(*) AS n FROM checkpoints AS k WHERE k.village_id = t.id
                ) AS checkpoint_count
            """,
            properties=(
                ("code", "t.code"),
                ("name", "t.name"),
                ("kind", "t.kind"),
                ("population", "t.population"),
                ("grid_count", "grid_count.n"),
                ("entrances_open", "entrance_count.open"),
                ("entrances_sealed", "entrance_count.sealed"),
                ("entrances_checkpoint", "entrance_count.checkpoint"),
                ("checkpoint_count", "checkpoint_count.n"),
            ),
        ),
        LayerSource(
            name="grids",
            title="Grids",
            geometry_type="MultiPolygon",
            from_sql="grids AS t JOIN villages AS v ON v.id = t.village_id",
            properties=(
                ("code", "t.code"),
                ("name", "t.name"),
                ("village", "v.name"),
                ("village_code", "v.code"),
            ),
        ),
        LayerSource(
            name="entrances",
            title="Entrances",
            geometry_type="Point",
            from_sql="""
                entrances AS t
                LEFT JOIN compounds AS c ON c.id = t.compound_id
                LEFT JOIN villages AS v ON v.id = coalesce(t.village_id, c.village_id)
            """,
            properties=(
                ("name", "t.name"),
                ("state", "t.state"),
                ("since", "t.since"),
                ("owner", "CASE WHEN t.compound_id IS NULL THEN 'village' ELSE 'compound' END"),
                ("compound", "c.name"),
                ("village", "v.name"),
            ),
        ),
        LayerSource(
            name="checkpoints",
            title="Checkpoints",
            geometry_type="Point",
            from_sql="""
                checkpoints AS t
                LEFT JOIN villages AS v ON v.id = t.village_id
                LEFT JOIN entrances AS e ON e.id = t.entrance_id
            """,
            properties=(
                ("name", "t.name"),
                ("kind", "t.kind"),
                ("state", "t.state"),
                ("staff_per_shift", "t.staff_per_shift"),
                ("radius_m", "t.radius_m"),
                ("village", "v.name"),
                ("entrance", "e.name"),
            ),
        ),
    )
}


def _collection_sql(source: LayerSource, *, bbox: bool) -> TextClause:
    """One statement that returns the whole FeatureCollection as JSON text.

    The SQL is made only of the constants above; the bbox arrives as bound parameters.
    ST_ForcePolygonCCW gives the exterior rings the counterclockwise winding RFC 7946 asks
    for, and options 0 keeps the legacy `crs` member out.
    """
    properties = ", ".join(f"'{name}', {expression}" for name, expression in source.properties)
    where = "WHERE t.geom && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)"
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
            {where if bbox else ""}
        ) AS f
        """
    )


def feature_collection(conn: Connection, source: LayerSource, *, bbox: BBox | None = None) -> str:
    """The layer's features (those whose bounding box meets `bbox`, if given) as GeoJSON text."""
    params = (
        {}
        if bbox is None
        else {
            "min_lon": bbox.min_lon,
            "min_lat": bbox.min_lat,
            "max_lon": bbox.max_lon,
            "max_lat": bbox.max_lat,
        }
    )
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
