"""coverage_cache_state.places: a generation that any write to entrances, their events or
compounds moves on, so that a serving process may keep those rows between reports

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 16:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("entrances", "entrance_events", "compounds")


def upgrade() -> None:
    op.execute("ALTER TABLE coverage_cache_state ADD COLUMN places bigint NOT NULL DEFAULT 1")
    op.execute(
        "CREATE FUNCTION coverage_cache_places_changed() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN UPDATE coverage_cache_state SET places = places + 1; RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER coverage_cache_places AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION coverage_cache_places_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER coverage_cache_places ON {table}")
    op.execute("DROP FUNCTION coverage_cache_places_changed()")
    op.execute("ALTER TABLE coverage_cache_state DROP COLUMN places")
