"""tile_generations: a generation per tile layer that every statement writing the layer's
table moves on, so that a tile's data version is one row read instead of a count over the
table (the buildings' count was 22 % of the database's active time under load)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 20:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAYERS = {"buildings": "buildings"}
"""Each layer and the table whose writes move its generation on."""


def upgrade() -> None:
    op.execute(
        "CREATE TABLE tile_generations (layer text NOT NULL, generation bigint NOT NULL,"
        " CONSTRAINT pk_tile_generations PRIMARY KEY (layer))"
    )
    # pg_restore runs with an empty search path: the function names its schema and sets it.
    op.execute(
        "CREATE FUNCTION tile_generation_moved() RETURNS trigger LANGUAGE plpgsql"
        " SET search_path = pg_catalog, public AS $$ BEGIN"
        " UPDATE public.tile_generations SET generation = generation + 1"
        " WHERE layer = TG_ARGV[0]; RETURN NULL; END $$"
    )
    for layer, table in LAYERS.items():
        op.execute(
            f"INSERT INTO tile_generations (layer, generation) VALUES ('{layer}', 1)"  # noqa: S608 (constants of this module)
        )
        op.execute(
            f"CREATE TRIGGER tile_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION tile_generation_moved('{layer}')"
        )


def downgrade() -> None:
    for table in LAYERS.values():
        op.execute(f"DROP TRIGGER tile_generation ON {table}")
    op.execute("DROP FUNCTION tile_generation_moved()")
    op.execute("DROP TABLE tile_generations")
