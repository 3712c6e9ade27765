"""What each exported layer reads, what its fields are, and which of them are personal.

The SQL fragments here are constants: nothing a caller sends is ever pasted into them. The
table with the geometry (or the row that carries one) is aliased `t`.
"""

from __future__ import annotations

from geodata.exports.layers_base import (
    BUILDING_POINT,
    GRID_POINT,
    Field,
    FieldKind,
    Layer,
    Measure,
    Treatment,
)
from geodata.exports.quarantine_layers import PLACE_LAYERS, QUARANTINE_LAYERS

F = Field
K = FieldKind
T = Treatment
CURRENT_PATROL_ZONES = "(SELECT * FROM patrol_zones WHERE retired_at IS NULL)"
"""Zones a newer plan retired stay in the table, out of the exports."""

PUBLIC_LAYERS: tuple[Layer, ...] = (
    # The entrance counts take a village's own entrances, then those of its compounds
    # that name no (or another) village: two indexed lookups per village, where
    # `e.village_id = t.id OR c.village_id = t.id` scanned every entrance for each one.
    Layer(
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
                FROM (
                    SELECT e.state FROM entrances AS e WHERE e.village_id = t.id
                    UNION ALL
                    SELECT e.state
                    FROM compounds AS c
                    JOIN entrances AS e ON e.compound_id = c.id
                    WHERE c.village_id = t.id AND e.village_id IS DISTINCT FROM t.id
                ) AS e
            ) AS entrance_count
            CROSS JOIN LATERAL (
                SELECT count(*) AS n FROM checkpoints AS k WHERE k.village_id = t.id
            ) AS checkpoint_count
        """,
        fields=(
            F("code", "t.code", K.TEXT),
            F("name", "t.name", K.TEXT),
            F("kind", "t.kind", K.TEXT),
            F("population", "t.population", K.INT),
            F("grid_count", "grid_count.n", K.INT),
            F("entrances_open", "entrance_count.open", K.INT),
            F("entrances_sealed", "entrance_count.sealed", K.INT),
            F("entrances_checkpoint", "entrance_count.checkpoint", K.INT),
            F("checkpoint_count", "checkpoint_count.n", K.INT),
        ),
    ),
    Layer(
        name="grids",
        title="Grids",
        geometry_type="MultiPolygon",
        from_sql="grids AS t JOIN villages AS v ON v.id = t.village_id",
        fields=(
            F("code", "t.code", K.TEXT),
            F("name", "t.name", K.TEXT),
            F("village", "v.name", K.TEXT),
            F("village_code", "v.code", K.TEXT),
        ),
    ),
    Layer(
        name="roads",
        title="Roads",
        geometry_type="LineString",
        from_sql="roads AS t",
        fields=(F("highway", "t.highway", K.TEXT), F("name", "t.name", K.TEXT)),
    ),
    Layer(
        name="buildings",
        title="Buildings",
        geometry_type="Polygon",
        from_sql="buildings AS t LEFT JOIN grids AS g ON g.id = t.grid_id",
        fields=(
            F("name", "t.name", K.TEXT),
            F("floors", "t.floors", K.INT),
            F("use", "t.use", K.TEXT),
            F("grid", "g.code", K.TEXT),
        ),
    ),
    Layer(
        name="compounds",
        title="Compounds",
        geometry_type="Polygon",
        from_sql="compounds AS t LEFT JOIN villages AS v ON v.id = t.village_id",
        fields=(
            F("name", "t.name", K.TEXT),
            F("kind", "t.kind", K.TEXT),
            F("closure", "t.closure", K.TEXT),
            F("village", "v.name", K.TEXT),
        ),
    ),
    Layer(
        name="entrances",
        title="Entrances",
        geometry_type="Point",
        from_sql="""
            entrances AS t
            LEFT JOIN compounds AS c ON c.id = t.compound_id
            LEFT JOIN villages AS v ON v.id = coalesce(t.village_id, c.village_id)
        """,
        fields=(
            F("name", "t.name", K.TEXT),
            F("state", "t.state", K.TEXT),
            F("since", "t.since", K.DATETIME),
            F(
                "owner",
                "CASE WHEN t.compound_id IS NULL THEN 'village' ELSE 'compound' END",
                K.TEXT,
            ),
            F("compound", "c.name", K.TEXT),
            F("village", "v.name", K.TEXT),
        ),
        time_sql="t.since",
        time_kind=K.DATETIME,
    ),
    Layer(
        name="checkpoints",
        title="Checkpoints",
        geometry_type="Point",
        from_sql="""
            checkpoints AS t
            LEFT JOIN villages AS v ON v.id = t.village_id
            LEFT JOIN entrances AS e ON e.id = t.entrance_id
        """,
        fields=(
            F("name", "t.name", K.TEXT),
            F("kind", "t.kind", K.TEXT),
            F("state", "t.state", K.TEXT),
            F("staff_per_shift", "t.staff_per_shift", K.INT),
            F("radius_m", "t.radius_m", K.FLOAT),
            F("village", "v.name", K.TEXT),
            F("entrance", "e.name", K.TEXT),
        ),
    ),
    Layer(
        name="patrol_zones",
        title="Patrol zones",
        geometry_type="MultiPolygon",
        from_sql=f"{CURRENT_PATROL_ZONES} AS t LEFT JOIN villages AS v ON v.id = t.village_id",
        fields=(
            F("name", "t.name", K.TEXT),
            F("period", "t.period", K.TEXT),
            F("village", "v.name", K.TEXT),
        ),
    ),
    Layer(
        name="patrol-zones",
        title="Patrol zones (as planned by wangge plan patrols, or imported)",
        geometry_type="MultiPolygon",
        from_sql=f"{CURRENT_PATROL_ZONES} AS t LEFT JOIN villages AS v ON v.id = t.village_id",
        fields=(
            F("zone", "t.source_id", K.TEXT),
            F("name", "t.name", K.TEXT),
            F("period", "t.period", K.TEXT),
            F("village", "v.name", K.TEXT),
        ),
    ),
    Layer(
        name="patrol-routes",
        title="Patrol routes: one loop from the station a feature (routes not retired)",
        geometry_type="LineString",
        from_sql="patrol_loops AS t JOIN patrol_routes AS r"
        " ON r.id = t.route_id AND r.retired_at IS NULL",
        fields=(
            F("zone", "r.zone", K.TEXT),
            F("loop", "t.loop", K.INT),
            F("period", "t.period", K.TEXT),
            F("route_m", "t.route_m", K.FLOAT),
            F("hours", "t.hours", K.FLOAT),
        ),
    ),
    Layer(
        name="isolation_sites",
        title="Isolation sites",
        geometry_type="Point",
        from_sql="isolation_sites AS t",
        fields=(
            F("name", "t.name", K.TEXT),
            F("beds", "t.beds", K.INT),
            F("reserve_rooms", "t.reserve_rooms", K.INT),
        ),
    ),
    # The people layers' fields are named as their import's, so that a full export imports back.
    Layer(
        name="teams",
        title="Teams",
        geometry_type="Point",
        from_sql="""
            teams AS t
            JOIN villages AS v ON v.id = t.village_id
            LEFT JOIN teams AS p ON p.id = t.parent_id
        """,
        geom_sql="ST_PointOnSurface(v.geom)",
        bbox_sql="v.geom",
        fields=(
            F("source_id", "t.source_id", K.TEXT),
            F("name", "t.name", K.TEXT),
            F("kind", "t.kind", K.TEXT),
            F("village_code", "v.code", K.TEXT),
            F("parent_source_id", "p.source_id", K.TEXT),
        ),
    ),
    Layer(
        name="shifts",
        title="Shifts at checkpoints and on patrol zones",
        geometry_type="Point",
        from_sql="checkpoint_shifts AS t LEFT JOIN checkpoints AS k ON k.id = t.checkpoint_id"
        " LEFT JOIN patrol_zones AS z ON z.id = t.patrol_zone_id",
        geom_sql="coalesce(k.geom, ST_PointOnSurface(z.geom))",
        fields=(
            F("source_id", "t.source_id", K.TEXT),
            F("checkpoint_source_id", "k.source_id", K.TEXT),
            F("patrol_zone_source_id", "z.source_id", K.TEXT),
            F("starts_at", "t.starts_at", K.DATETIME),
            F("ends_at", "t.ends_at", K.DATETIME),
            F("staff_count", "t.staff_count", K.INT),
        ),
        time_sql="t.starts_at",
        time_kind=K.DATETIME,
    ),
)
"""Layers without personal data: exported as they are to anyone who may see the map."""

PERSONAL_LAYERS: tuple[Layer, ...] = (
    Layer(
        name="households",
        title="Households",
        geometry_type="Point",
        from_sql="""
            households AS t
            LEFT JOIN buildings AS b ON b.id = t.building_id
            LEFT JOIN grids AS g ON g.id = t.grid_id
        """,
        geom_sql=BUILDING_POINT,
        bbox_sql="b.geom",
        fields=(
            F("source_id", "t.source_id", K.TEXT, T.DROP),
            F("building_source_id", "b.source_id", K.TEXT, T.DROP),
            F("grid", "g.code", K.TEXT),
            F("unit", "t.unit", K.TEXT, T.COUNTED),
            F("room", "t.room", K.TEXT, T.COUNTED),
            F("members", "t.members", K.INT),
            F("status", "t.status", K.TEXT, T.COUNTED),
        ),
        personal=True,
        id_kind="household",
        grid_sql="t.grid_id",
        measures=(
            Measure("households", "1"),
            Measure("members", "t.members"),
            Measure("home_quarantine", "(t.status = 'home_quarantine')::int"),
            Measure("vacant", "(t.status = 'vacant')::int"),
        ),
    ),
    Layer(
        name="residents",
        title="Residents",
        geometry_type="Point",
        from_sql="""
            residents AS t
            JOIN households AS h ON h.id = t.household_id
            LEFT JOIN buildings AS b ON b.id = h.building_id
            LEFT JOIN grids AS g ON g.id = t.grid_id
        """,
        geom_sql=BUILDING_POINT,
        bbox_sql="b.geom",
        fields=(
            F("source_id", "t.source_id", K.TEXT, T.DROP),
            F("household_source_id", "h.source_id", K.TEXT, T.DROP),
            F("household_id", "t.household_id", K.INT, T.PSEUDONYM, "household"),
            F("grid", "g.code", K.TEXT),
            F("name", "t.name", K.TEXT, T.DROP),
            F("id_number", "t.id_number", K.TEXT, T.DROP),
            F("phone", "t.phone", K.TEXT, T.DROP),
            F("returnee", "t.returnee", K.BOOL, T.COUNTED),
            F("origin", "t.origin", K.TEXT, T.COUNTED),
            F("returned_on", "t.returned_on", K.DATE, T.COUNTED),
            F("close_contact", "t.close_contact", K.BOOL, T.COUNTED),
            F("fever", "t.fever", K.BOOL, T.COUNTED),
            F("quarantine_until", "t.quarantine_until", K.DATE, T.COUNTED),
        ),
        personal=True,
        id_kind="resident",
        grid_sql="t.grid_id",
        time_sql="t.returned_on",
        time_kind=K.DATE,
        undated_always=True,
        measures=(
            Measure("residents", "1"),
            Measure("returnees", "t.returnee::int"),
            Measure("close_contacts", "t.close_contact::int"),
            Measure("fever", "t.fever::int"),
        ),
    ),
    Layer(
        name="visits",
        title="Household visits",
        geometry_type="Point",
        from_sql="""
            visits AS t
            JOIN households AS h ON h.id = t.household_id
            LEFT JOIN buildings AS b ON b.id = h.building_id
            LEFT JOIN grids AS g ON g.id = t.grid_id
            LEFT JOIN staff AS w ON w.id = t.worker_id
        """,
        geom_sql=BUILDING_POINT,
        bbox_sql="b.geom",
        fields=(
            F("source_id", "t.source_id", K.TEXT, T.DROP),
            F("household_source_id", "h.source_id", K.TEXT, T.DROP),
            F("worker_source_id", "w.source_id", K.TEXT, T.DROP),
            F("household_id", "t.household_id", K.INT, T.PSEUDONYM, "household"),
            F("worker_id", "t.worker_id", K.INT, T.PSEUDONYM, "staff"),
            F("grid", "g.code", K.TEXT),
            F("visited_at", "t.visited_at", K.DATETIME),
            F("result", "t.result", K.TEXT),
            F("fever_count", "t.fever_count", K.INT, T.COUNTED),
        ),
        personal=True,
        id_kind="visit",
        grid_sql="t.grid_id",
        time_sql="t.visited_at",
        time_kind=K.DATETIME,
        measures=(
            Measure("visits", "1"),
            Measure("nobody_home", "(t.result = 'nobody_home')::int"),
            Measure("fever_reported", "t.fever_count"),
        ),
    ),
)
"""Layers with personal data: aggregate by default, pseudonymous or full by right."""

STAFF_GRID = (
    "coalesce(st.grid_id, (SELECT min(fg.id) FROM grids AS fg WHERE fg.village_id = st.village_id))"
)
"""A person's grid, for scope and counts: their own, else their village's first (a village
secretary counts in their village, and is seen by whoever sees that grid)."""
_LEADERS = "('village_secretary', 'grid_leader', 'yard_head', 'building_head')"

PEOPLE_LAYERS: tuple[Layer, ...] = (
    Layer(
        name="staff",
        title="Staff",
        geometry_type="Point",
        from_sql=f"""
            staff AS t
            CROSS JOIN LATERAL (SELECT t.grid_id, t.village_id) AS st
            JOIN villages AS v ON v.id = t.village_id
            LEFT JOIN grids AS g ON g.id = {STAFF_GRID}
            LEFT JOIN grids AS own ON own.id = t.grid_id
            LEFT JOIN teams AS tm ON tm.id = t.team_id
        """,
        geom_sql=GRID_POINT,
        bbox_sql="g.geom",
        fields=(
            F("source_id", "t.source_id", K.TEXT, T.DROP),
            F("name", "t.name", K.TEXT, T.DROP),
            F("role", "t.role", K.TEXT),
            F("village_code", "v.code", K.TEXT),
            F("team_source_id", "tm.source_id", K.TEXT),
            F("grid_code", "own.code", K.TEXT),
            F("phone", "t.phone", K.TEXT, T.DROP),
        ),
        personal=True,
        id_kind="staff",
        grid_sql="g.id",
        measures=(
            Measure("staff", "1"),
            Measure("responsible", f"(t.role IN {_LEADERS})::int"),
            Measure("grid_workers", "(t.role = 'grid_worker')::int"),
            Measure("checkpoint_staff", "(t.role = 'checkpoint_staff')::int"),
        ),
    ),
    Layer(
        name="shift-staff",
        title="People on shifts",
        geometry_type="Point",
        from_sql=f"""
            shift_staff AS t
            JOIN checkpoint_shifts AS sh ON sh.id = t.shift_id
            LEFT JOIN checkpoints AS k ON k.id = sh.checkpoint_id
            LEFT JOIN patrol_zones AS z ON z.id = sh.patrol_zone_id
            JOIN staff AS st ON st.id = t.staff_id
            LEFT JOIN grids AS g ON g.id = {STAFF_GRID}
        """,
        geom_sql="coalesce(k.geom, ST_PointOnSurface(z.geom))",
        fields=(
            F("shift_source_id", "sh.source_id", K.TEXT),
            F("staff_source_id", "st.source_id", K.TEXT, T.DROP),
            F("staff_id", "t.staff_id", K.INT, T.PSEUDONYM, "staff"),
            F("starts_at", "t.starts_at", K.DATETIME),
            F("ends_at", "t.ends_at", K.DATETIME),
        ),
        personal=True,
        id_kind="shift_staff",
        grid_sql="g.id",
        time_sql="t.starts_at",
        time_kind=K.DATETIME,
        measures=(
            Measure("assignments", "1"),
            Measure("hours", "extract(epoch FROM t.ends_at - t.starts_at) / 3600"),
        ),
    ),
)
"""The people: personal like the layers above (names and phones dropped but by right)."""

PERSONAL_LAYERS += PEOPLE_LAYERS + QUARANTINE_LAYERS
PUBLIC_LAYERS += PLACE_LAYERS
LAYERS: dict[str, Layer] = {layer.name: layer for layer in PUBLIC_LAYERS + PERSONAL_LAYERS}
COVERAGE = "coverage"
"""The coverage results: households screened per grid (or village) on a day."""

__all__ = [
    "BUILDING_POINT",
    "GRID_POINT",
    "LAYERS",
    "PERSONAL_LAYERS",
    "PUBLIC_LAYERS",
    "Field",
    "FieldKind",
    "Layer",
    "Measure",
    "Treatment",
]
