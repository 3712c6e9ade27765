"""buildings: no GiST index on geom_3857; tiles find their outlines through geom's

A Web Mercator tile is a rectangle in longitude and latitude too (x maps to longitude
linearly, y to latitude monotonically), so the tile's envelope brought to EPSG:4326 selects
the same outlines through the index on `geom`. The stored `geom_3857` stays, for encoding
tiles without reprojecting; a second GiST index on it cost every load and write.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 16:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS idx_buildings_geom_3857")


def downgrade() -> None:
    op.execute("CREATE INDEX idx_buildings_geom_3857 ON buildings USING gist (geom_3857)")
