"""household_hexagons: the households tiles' hexagon figures kept as a cache, per zoom, per
hexagon and per grid, with the cells that writes have made stale

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 15:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOWN_ROLE = "wangge_town"
GRID_SCOPE = (
    "grid_id = ANY (string_to_array(nullif(current_setting('wangge.grid_ids', true), ''), ',')"
    "::bigint[])"
)
BULK_ROWS = 5000
"""A statement changing more households than this marks the whole cache stale, not its cells."""


def upgrade() -> None:
    # The hexagon lattice of the households tiles: ST_HexagonGrid's (flat-topped, edge s,
    # anchored at 0,0), `HEXAGONS_PER_TILE` (12) across a Web Mercator tile of zoom z.
    op.execute(
        "CREATE FUNCTION hexagon_size(z int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE"
        " AS $$ SELECT 40075016.685578488 / 2 ^ z / 12 / sqrt(3) $$"
    )
    # The hexagon whose centre is nearest the point: one of the two columns either side of
    # it (odd columns half a row up), rounded to the row; ties go to the lower column.
    op.execute(
        """
        CREATE FUNCTION hexagon_cell(px float8, py float8, s float8, OUT i int, OUT j int)
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT v.i, v.j
            FROM (
                SELECT c.i, round(py / (sqrt(3) * s) - c.half)::int AS j, c.half
                FROM (
                    SELECT k AS i, 0.5 * (((k % 2) + 2) % 2) AS half
                    FROM (VALUES (floor(px / (1.5 * s))::int),
                                 (floor(px / (1.5 * s))::int + 1)) AS k(k)
                ) AS c
            ) AS v
            ORDER BY power(px - 1.5 * s * v.i, 2) + power(py - sqrt(3) * s * (v.j + v.half), 2),
                     v.i
            LIMIT 1
        $$
        """
    )
    op.execute(
        """
        CREATE TABLE household_hexagons (
            z smallint NOT NULL,
            i integer NOT NULL,
            j integer NOT NULL,
            grid_id bigint,
            building_grid_id bigint,
            households integer NOT NULL,
            never_visited integer NOT NULL,
            last_visits timestamptz[] NOT NULL,
            max_visit timestamptz
        )
        """
    )
    op.execute("CREATE INDEX ix_household_hexagons_cell ON household_hexagons (z, i, j)")
    op.execute(
        "COMMENT ON TABLE household_hexagons IS 'The households of the buildings whose centroid"
        " lies in hexagon (i, j) of zoom z, per grid of the households (grid_id) and of the"
        " building: how many, how many never visited, and the latest visit of each of the"
        " others, sorted (width_bucket counts those at or before a moment)'"
    )
    op.execute("ALTER TABLE household_hexagons ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE household_hexagons FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY household_hexagons_grid_scope ON household_hexagons "
        f"USING ({GRID_SCOPE}) WITH CHECK ({GRID_SCOPE})"
    )
    op.execute(
        f"CREATE POLICY household_hexagons_town ON household_hexagons TO {TOWN_ROLE}"
        " USING (true) WITH CHECK (true)"
    )
    op.execute(
        """
        CREATE TABLE household_hexagons_stale (
            z smallint NOT NULL,
            i integer NOT NULL,
            j integer NOT NULL,
            CONSTRAINT pk_household_hexagons_stale PRIMARY KEY (z, i, j)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE household_hexagons_state (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            rebuild boolean NOT NULL,
            built_at timestamptz
        )
        """
    )
    op.execute("INSERT INTO household_hexagons_state (one, rebuild) VALUES (true, true)")
    # The cells of buildings: every hexagon zoom of the tiles (11 to 14).
    op.execute(
        """
        CREATE FUNCTION household_hexagons_mark(building_ids bigint[]) RETURNS void
        LANGUAGE sql AS $$
            INSERT INTO household_hexagons_stale (z, i, j)
            SELECT DISTINCT z.z, c.i, c.j
            FROM buildings AS b
            CROSS JOIN LATERAL (SELECT ST_Centroid(b.geom_3857) AS p) AS p
            CROSS JOIN generate_series(11, 14) AS z(z)
            CROSS JOIN LATERAL hexagon_cell(ST_X(p.p), ST_Y(p.p), hexagon_size(z.z)) AS c
            WHERE b.id = ANY (building_ids)
            ON CONFLICT DO NOTHING
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION household_hexagons_households_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE ids bigint[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                SELECT array_agg(DISTINCT building_id) INTO ids FROM new_rows
                WHERE building_id IS NOT NULL;
            ELSIF TG_OP = 'DELETE' THEN
                SELECT array_agg(DISTINCT building_id) INTO ids FROM old_rows
                WHERE building_id IS NOT NULL;
            ELSE
                SELECT array_agg(DISTINCT x.building_id) INTO ids FROM (
                    SELECT building_id FROM old_rows UNION ALL SELECT building_id FROM new_rows
                ) AS x WHERE x.building_id IS NOT NULL;
            END IF;
            IF ids IS NULL THEN
                RETURN NULL;
            ELSIF cardinality(ids) > {BULK_ROWS} THEN
                UPDATE household_hexagons_state SET rebuild = true WHERE NOT rebuild;
            ELSE
                PERFORM household_hexagons_mark(ids);
            END IF;
            RETURN NULL;
        END $$
        """  # noqa: S608 (constants of this migration, which takes no input)
    )
    for op_name, refs in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER household_hexagons_{op_name.lower()} AFTER {op_name} ON households"
            f" REFERENCING {refs} FOR EACH STATEMENT"
            " EXECUTE FUNCTION household_hexagons_households_changed()"
        )
    op.execute(
        "CREATE FUNCTION household_hexagons_truncated() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN UPDATE household_hexagons_state SET rebuild = true WHERE NOT rebuild;"
        " RETURN NULL; END $$"
    )
    for table in ("households", "buildings"):
        op.execute(
            f"CREATE TRIGGER household_hexagons_truncate AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION household_hexagons_truncated()"
        )
    # A building moved, re-gridded or removed: the cells of its old and new outline.
    op.execute(
        """
        CREATE FUNCTION household_hexagons_building_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR NOT (OLD.geom IS NOT DISTINCT FROM NEW.geom
                                        AND OLD.grid_id IS NOT DISTINCT FROM NEW.grid_id) THEN
                INSERT INTO household_hexagons_stale (z, i, j)
                SELECT DISTINCT z.z, c.i, c.j
                FROM (SELECT OLD.geom_3857 AS g
                      UNION ALL SELECT NEW.geom_3857 WHERE TG_OP = 'UPDATE') AS o
                CROSS JOIN LATERAL (SELECT ST_Centroid(o.g) AS p) AS p
                CROSS JOIN generate_series(11, 14) AS z(z)
                CROSS JOIN LATERAL hexagon_cell(ST_X(p.p), ST_Y(p.p), hexagon_size(z.z)) AS c
                WHERE o.g IS NOT NULL
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER household_hexagons_building AFTER UPDATE OR DELETE ON buildings"
        " FOR EACH ROW EXECUTE FUNCTION household_hexagons_building_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER household_hexagons_building ON buildings")
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER household_hexagons_{name} ON households")
    for table in ("households", "buildings"):
        op.execute(f"DROP TRIGGER household_hexagons_truncate ON {table}")
    op.execute("DROP FUNCTION household_hexagons_truncated()")
    op.execute("DROP FUNCTION household_hexagons_building_changed()")
    op.execute("DROP FUNCTION household_hexagons_households_changed()")
    op.execute("DROP FUNCTION household_hexagons_mark(bigint[])")
    op.execute("DROP TABLE household_hexagons_state")
    op.execute("DROP TABLE household_hexagons_stale")
    op.execute("DROP TABLE household_hexagons")
    op.execute("DROP FUNCTION hexagon_cell(float8, float8, float8)")
    op.execute("DROP FUNCTION hexagon_size(int)")
