"""The quarantine layers: quarantines, their checks, fever alerts and bed assignments.
Personal like residents: aggregated per grid by default, pseudonymous or full by right; a
pseudonymous row stands at a point of its grid and keeps no health detail but as counts."""

from __future__ import annotations

from geodata.exports.layers_base import GRID_POINT, Field, FieldKind, Layer, Measure, Treatment

F = Field
K = FieldKind
T = Treatment

QUARANTINE_LAYERS: tuple[Layer, ...] = (
    Layer(
        name="quarantines",
        title="Quarantines",
        geometry_type="Point",
        from_sql="""
            quarantines AS t
            JOIN residents AS r ON r.id = t.resident_id
            LEFT JOIN grids AS g ON g.id = t.grid_id
        """,
        geom_sql=GRID_POINT,
        bbox_sql="g.geom",
        fields=(
            F("resident_source_id", "r.source_id", K.TEXT, T.DROP),
            F("resident_id", "t.resident_id", K.INT, T.PSEUDONYM, "resident"),
            F("grid", "g.code", K.TEXT),
            F("type", "t.type", K.TEXT, T.COUNTED),
            F("reason", "t.reason", K.TEXT, T.COUNTED),
            F("origin", "t.origin", K.TEXT, T.COUNTED),
            F("starts_at", "t.starts_at", K.DATETIME, T.COUNTED),
            F("ends_at", "t.ends_at", K.DATETIME, T.COUNTED),
            F("status", "t.status", K.TEXT, T.COUNTED),
            F("released_at", "t.released_at", K.DATETIME, T.COUNTED),
        ),
        personal=True,
        id_kind="quarantine",
        grid_sql="t.grid_id",
        time_sql="t.starts_at",
        time_kind=K.DATETIME,
        measures=(
            Measure("quarantines", "1"),
            Measure("active", "(t.status = 'active')::int"),
            Measure("home", "(t.type = 'home')::int"),
            Measure("observation", "(t.type = 'observation')::int"),
            Measure("concentrated", "(t.type = 'concentrated')::int"),
            Measure("returnees", "(t.reason = 'returnee')::int"),
            Measure("close_contacts", "(t.reason = 'close_contact')::int"),
        ),
    ),
    Layer(
        name="quarantine-changes",
        title="Quarantine extensions and releases",
        geometry_type="Point",
        from_sql="""
            quarantine_changes AS t
            LEFT JOIN grids AS g ON g.id = t.grid_id
        """,
        geom_sql=GRID_POINT,
        bbox_sql="g.geom",
        fields=(
            F("quarantine_id", "t.quarantine_id", K.INT, T.PSEUDONYM, "quarantine"),
            F("grid", "g.code", K.TEXT),
            F("kind", "t.kind", K.TEXT, T.COUNTED),
            F("at", "t.at", K.DATETIME, T.COUNTED),
            F("ends_at", "t.ends_at", K.DATETIME, T.COUNTED),
            F("reason", "t.reason", K.TEXT, T.DROP),
            F("decided_by", "t.decided_by", K.TEXT, T.DROP),
        ),
        personal=True,
        id_kind="quarantine_change",
        grid_sql="t.grid_id",
        time_sql="t.at",
        time_kind=K.DATETIME,
        measures=(
            Measure("changes", "1"),
            Measure("extensions", "(t.kind = 'extend')::int"),
            Measure("releases", "(t.kind IN ('release', 'release_early'))::int"),
        ),
    ),
    Layer(
        name="quarantine-checks",
        title="Quarantine checks",
        geometry_type="Point",
        from_sql="""
            quarantine_checks AS t
            LEFT JOIN grids AS g ON g.id = t.grid_id
        """,
        geom_sql=GRID_POINT,
        bbox_sql="g.geom",
        fields=(
            F("quarantine_id", "t.quarantine_id", K.INT, T.PSEUDONYM, "quarantine"),
            F("grid", "g.code", K.TEXT),
            F("checked_at", "t.checked_at", K.DATETIME),
            F("temperature_c", "t.temperature_c::float8", K.FLOAT, T.COUNTED),
        ),
        personal=True,
        id_kind="quarantine_check",
        grid_sql="t.grid_id",
        time_sql="t.checked_at",
        time_kind=K.DATETIME,
        measures=(
            Measure("checks", "1"),
            Measure("fever", "(t.temperature_c >= 37.3)::int"),
        ),
    ),
    Layer(
        name="fever-alerts",
        title="Fever alerts",
        geometry_type="Point",
        from_sql="""
            fever_alerts AS t
            LEFT JOIN grids AS g ON g.id = t.grid_id
        """,
        geom_sql=GRID_POINT,
        bbox_sql="g.geom",
        fields=(
            F("quarantine_id", "t.quarantine_id", K.INT, T.PSEUDONYM, "quarantine"),
            F("grid", "g.code", K.TEXT),
            F("opened_at", "t.opened_at", K.DATETIME),
            F("temperature_c", "t.temperature_c::float8", K.FLOAT, T.COUNTED),
            F("closed_at", "t.closed_at", K.DATETIME),
            F("action", "t.action", K.TEXT, T.DROP),
        ),
        personal=True,
        id_kind="fever_alert",
        grid_sql="t.grid_id",
        time_sql="t.opened_at",
        time_kind=K.DATETIME,
        measures=(
            Measure("alerts", "1"),
            Measure("open", "(t.closed_at IS NULL)::int"),
        ),
    ),
    Layer(
        name="bed-assignments",
        title="Isolation bed assignments",
        geometry_type="Point",
        from_sql="""
            bed_assignments AS t
            JOIN isolation_beds AS bd ON bd.id = t.bed_id
            JOIN isolation_sites AS s ON s.id = bd.site_id
            LEFT JOIN grids AS g ON g.id = t.grid_id
        """,
        geom_sql="s.geom",
        bbox_sql="s.geom",
        fields=(
            F("resident_id", "t.resident_id", K.INT, T.PSEUDONYM, "resident"),
            F("site_source_id", "s.source_id", K.TEXT),
            F("grid", "g.code", K.TEXT),
            F("bed_id", "t.bed_id", K.INT, T.COUNTED),
            F("starts_at", "t.starts_at", K.DATETIME, T.COUNTED),
            F("ends_at", "t.ends_at", K.DATETIME, T.COUNTED),
        ),
        personal=True,
        id_kind="bed_assignment",
        grid_sql="t.grid_id",
        time_sql="t.starts_at",
        time_kind=K.DATETIME,
        measures=(
            Measure("assignments", "1"),
            Measure("in_bed", "(t.ends_at IS NULL)::int"),
        ),
    ),
)
"""Personal: aggregate by default, pseudonymous or full by right."""

PLACE_LAYERS: tuple[Layer, ...] = (
    Layer(
        name="isolation-beds",
        title="Isolation beds",
        geometry_type="Point",
        from_sql="""
            isolation_beds AS t
            JOIN isolation_rooms AS r ON r.id = t.room_id
            JOIN isolation_sites AS s ON s.id = t.site_id
        """,
        geom_sql="s.geom",
        bbox_sql="s.geom",
        fields=(
            F("site_source_id", "s.source_id", K.TEXT),
            F("room", "r.number", K.TEXT),
            F("bed", "t.label", K.TEXT),
            F("reserve", "r.reserve", K.BOOL),
        ),
    ),
    Layer(
        name="campaigns",
        title="Screening campaigns",
        geometry_type="MultiPolygon",
        from_sql="""
            campaigns AS t
            CROSS JOIN LATERAL (
                SELECT ST_Multi(ST_Union(g.geom)) AS geom, count(*) AS grids
                FROM campaign_grids AS cg JOIN grids AS g ON g.id = cg.grid_id
                WHERE cg.campaign_id = t.id
            ) AS scope
        """,
        geom_sql="scope.geom",
        bbox_sql="scope.geom",
        fields=(
            F("name", "t.name", K.TEXT),
            F("starts_at", "t.starts_at", K.DATETIME),
            F("deadline", "t.deadline", K.DATETIME),
            F("grids", "scope.grids", K.INT),
        ),
    ),
)
"""Places and plans without personal data: every bed of every site, and each campaign over
the union of its grids."""
