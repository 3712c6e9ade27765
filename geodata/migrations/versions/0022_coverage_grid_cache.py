"""coverage_grid_cache: the coverage report's household figures per grid kept as a cache: the
figures that only change with the town's structure (households, buildings, roads, grids)
under a generation that any such change moves on, and each grid's latest visits under a
version that its households' visits move on

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 15:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOWN_ROLE = "wangge_town"
GRID_SCOPE = (
    "grid_id = ANY (string_to_array(nullif(current_setting('wangge.grid_ids', true), ''), ',')"
    "::bigint[])"
)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE coverage_cache_state (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            structure bigint NOT NULL
        )
        """
    )
    op.execute("INSERT INTO coverage_cache_state (one, structure) VALUES (true, 1)")
    op.execute(
        """
        CREATE TABLE coverage_grid_versions (
            grid_id bigint PRIMARY KEY,
            visits bigint NOT NULL
        )
        """
    )
    # Figures per grid for one key (the checkpoints reaching, the patrol zones, the options),
    # valid while the structure generation is the one they were computed under.
    op.execute(
        """
        CREATE TABLE coverage_grid_cache (
            key text NOT NULL,
            grid_id bigint NOT NULL,
            structure bigint NOT NULL,
            counts bigint[] NOT NULL,
            CONSTRAINT pk_coverage_grid_cache PRIMARY KEY (key, grid_id)
        )
        """
    )
    # Each grid's households' latest visits, sorted: width_bucket counts those at or before a
    # moment, for any moment at or after the latest of them.
    op.execute(
        """
        CREATE TABLE coverage_grid_visits (
            grid_id bigint PRIMARY KEY,
            structure bigint NOT NULL,
            visits bigint NOT NULL,
            households integer NOT NULL,
            last_visits timestamptz[] NOT NULL,
            max_visit timestamptz
        )
        """
    )
    for table in ("coverage_grid_cache", "coverage_grid_visits"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_grid_scope ON {table} "
            f"USING ({GRID_SCOPE}) WITH CHECK ({GRID_SCOPE})"
        )
        op.execute(
            f"CREATE POLICY {table}_town ON {table} TO {TOWN_ROLE} USING (true) WITH CHECK (true)"
        )
    op.execute("CREATE INDEX ix_households_no_grid ON households (id) WHERE grid_id IS NULL")
    op.execute(
        "CREATE FUNCTION coverage_cache_structure_changed() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN UPDATE coverage_cache_state SET structure = structure + 1; RETURN NULL;"
        " END $$"
    )
    # Households: a visit moves only its grid's visits on; anything else, the structure.
    op.execute(
        """
        CREATE FUNCTION coverage_cache_households_changed() RETURNS trigger LANGUAGE plpgsql
        AS $$
        BEGIN
            IF TG_OP <> 'UPDATE' THEN
                UPDATE coverage_cache_state SET structure = structure + 1;
            ELSIF EXISTS (
                SELECT 1 FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
                WHERE o.grid_id IS DISTINCT FROM n.grid_id
                   OR o.building_id IS DISTINCT FROM n.building_id
            ) THEN
                UPDATE coverage_cache_state SET structure = structure + 1;
            ELSE
                INSERT INTO coverage_grid_versions (grid_id, visits)
                SELECT DISTINCT n.grid_id, 1 FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
                WHERE n.grid_id IS NOT NULL
                  AND o.last_visited_at IS DISTINCT FROM n.last_visited_at
                ON CONFLICT (grid_id)
                DO UPDATE SET visits = coverage_grid_versions.visits + 1;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for op_name, refs in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER coverage_cache_{op_name.lower()} AFTER {op_name} ON households"
            f" REFERENCING {refs} FOR EACH STATEMENT"
            " EXECUTE FUNCTION coverage_cache_households_changed()"
        )
    op.execute(
        "CREATE TRIGGER coverage_cache_truncate AFTER TRUNCATE ON households"
        " FOR EACH STATEMENT EXECUTE FUNCTION coverage_cache_structure_changed()"
    )
    for table in ("buildings", "roads", "grids", "villages"):
        op.execute(
            f"CREATE TRIGGER coverage_cache_structure AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION coverage_cache_structure_changed()"
        )


def downgrade() -> None:
    for table in ("buildings", "roads", "grids", "villages"):
        op.execute(f"DROP TRIGGER coverage_cache_structure ON {table}")
    op.execute("DROP TRIGGER coverage_cache_truncate ON households")
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER coverage_cache_{name} ON households")
    op.execute("DROP FUNCTION coverage_cache_households_changed()")
    op.execute("DROP FUNCTION coverage_cache_structure_changed()")
    op.execute("DROP INDEX ix_households_no_grid")
    for table in (
        "coverage_grid_visits",
        "coverage_grid_cache",
        "coverage_grid_versions",
        "coverage_cache_state",
    ):
        op.execute(f"DROP TABLE {table}")
