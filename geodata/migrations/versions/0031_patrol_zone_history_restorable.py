"""patrol_zone_history's trigger decides in its function which changes it keeps, instead of
a WHEN clause: pg_restore runs with an empty search path, where `geometry = geometry` of the
clause could not be resolved and the restore failed

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 19:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANGED = (
    "OLD.geom IS DISTINCT FROM NEW.geom OR OLD.name IS DISTINCT FROM NEW.name"
    " OR OLD.period IS DISTINCT FROM NEW.period OR OLD.team_id IS DISTINCT FROM NEW.team_id"
    " OR OLD.village_id IS DISTINCT FROM NEW.village_id"
    " OR OLD.retired_at IS DISTINCT FROM NEW.retired_at"
)
KEEP = (
    " INSERT INTO patrol_zone_history (zone_id, source_id, name, period, team_id,"
    " village_id, geom, version, retired_at, valid_from, change)"
    " VALUES (OLD.id, OLD.source_id, OLD.name, OLD.period, OLD.team_id, OLD.village_id,"
    " OLD.geom, OLD.version, OLD.retired_at, OLD.updated_at, lower(TG_OP));"
)


def upgrade() -> None:
    op.execute("DROP TRIGGER patrol_zone_kept_update ON patrol_zones")
    op.execute(
        "CREATE OR REPLACE FUNCTION patrol_zone_kept() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN IF TG_OP = 'DELETE' OR ({CHANGED}) THEN{KEEP} END IF; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER patrol_zone_kept_update AFTER UPDATE ON patrol_zones FOR EACH ROW"
        " EXECUTE FUNCTION patrol_zone_kept()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER patrol_zone_kept_update ON patrol_zones")
    op.execute(
        "CREATE OR REPLACE FUNCTION patrol_zone_kept() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN{KEEP} RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER patrol_zone_kept_update AFTER UPDATE ON patrol_zones FOR EACH ROW"
        f" WHEN ({CHANGED}) EXECUTE FUNCTION patrol_zone_kept()"
    )
