"""buildings: outlines in Web Mercator, kept in step with geom, for vector tiles

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A stored generated column: PostgreSQL recomputes it on every insert and update of geom,
    # and loaders (COPY with a column list) never write it.
    op.execute(
        "ALTER TABLE buildings ADD COLUMN geom_3857 geometry(POLYGON, 3857) "
        "GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED NOT NULL"
    )
    op.execute("CREATE INDEX idx_buildings_geom_3857 ON buildings USING gist (geom_3857)")
    op.execute("ANALYZE buildings")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS idx_buildings_geom_3857")
    op.drop_column("buildings", "geom_3857")
