"""households: the time of the latest visit, kept by statement triggers on visits

The map's household tiles and the coverage report ask, for every household, when it was
last visited. Read from `visits` that is one index lookup per household (60,000 for a z13
tile of a town of a million households); kept on the household it is a column read. The
triggers fire once per statement, with the statement's rows as transition tables, so a
bulk load of visits costs one grouped update. Questions about a past moment still read
`visits` for the households visited after it.

Filling the column updates every household once: on a town already loaded the table then
holds as many dead rows as live ones, so `geodata.db.migrate.upgrade` rewrites it after the
migration's transaction (`VACUUM FULL` cannot run inside one; see REWRITTEN_AFTER there).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LATEST = "(SELECT max(v.visited_at) FROM visits v WHERE v.household_id = h.id)"

# SECURITY DEFINER: the function runs as the tables' owner, so that a visit a grid worker
# may record (row-level security decides that) updates its household's derived column.
FUNCTIONS = {
    "visits_added": """
        UPDATE households h SET last_visited_at = n.at
        FROM (SELECT household_id, max(visited_at) AS at FROM new_rows GROUP BY household_id) n
        WHERE h.id = n.household_id AND (h.last_visited_at IS NULL OR h.last_visited_at < n.at)
    """,
    "visits_changed": f"""
        UPDATE households h SET last_visited_at = {LATEST}
        WHERE h.id IN (SELECT household_id FROM old_rows UNION SELECT household_id FROM new_rows)
    """,  # noqa: S608 (constants of this migration, which takes no input)
    "visits_removed": f"""
        UPDATE households h SET last_visited_at = {LATEST}
        WHERE h.id IN (SELECT household_id FROM old_rows)
    """,  # noqa: S608 (constants of this migration, which takes no input)
    "visits_emptied": """
        UPDATE households SET last_visited_at = NULL WHERE last_visited_at IS NOT NULL
    """,
}
TRIGGERS = {
    "visits_added": "AFTER INSERT ON visits REFERENCING NEW TABLE AS new_rows",
    "visits_changed": (
        "AFTER UPDATE ON visits REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
    "visits_removed": "AFTER DELETE ON visits REFERENCING OLD TABLE AS old_rows",
    "visits_emptied": "AFTER TRUNCATE ON visits",
}


def upgrade() -> None:
    op.execute("ALTER TABLE households ADD COLUMN last_visited_at timestamptz")
    op.execute(
        "UPDATE households h SET last_visited_at = v.at FROM "
        "(SELECT household_id, max(visited_at) AS at FROM visits GROUP BY household_id) v "
        "WHERE v.household_id = h.id"
    )
    for name, body in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION households_{name}() RETURNS trigger LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = public, pg_temp AS $$ BEGIN "
            f"{body.strip()}; RETURN NULL; END $$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION households_{name}() FROM PUBLIC")
        op.execute(
            f"CREATE TRIGGER households_{name} {TRIGGERS[name]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION households_{name}()"
        )
    op.execute("ANALYZE households")


def downgrade() -> None:
    for name in FUNCTIONS:
        op.execute(f"DROP TRIGGER IF EXISTS households_{name} ON visits")
        op.execute(f"DROP FUNCTION IF EXISTS households_{name}()")
    op.execute("ALTER TABLE households DROP COLUMN last_visited_at")
