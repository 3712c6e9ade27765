"""isolation bed occupancy: the beds taken at a moment, whoever asks; a bed freed when its
person's quarantine ends; isolation_sites.beds_used derived from the assignments

- isolation_beds_taken(at, onwards): the ids of the beds held at a moment (onwards: at it or
  later, bookings to come included). SECURITY DEFINER, past row security: a commander places
  people of their villages in beds that people of other villages hold, and must know which
  ones; the function gives bed ids only, never who holds them.
- A quarantine released or transferred ends its open bed assignments at its release (a
  statement trigger on quarantines); those already released are ended here.
- isolation_sites.beds_used: the site's ordinary beds (not in reserve rooms) taken now,
  counted again for the sites whose assignments change (statement triggers on
  bed_assignments); every site is counted here once, so a figure with no assignment behind
  it becomes 0.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"

TAKEN = """
CREATE FUNCTION isolation_beds_taken(at timestamptz, onwards boolean DEFAULT false)
RETURNS TABLE (bed_id bigint) LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT DISTINCT a.bed_id FROM bed_assignments a
    WHERE (a.ends_at IS NULL OR a.ends_at > at) AND (onwards OR a.starts_at <= at)
$$
"""

RECOUNT = """
    UPDATE isolation_sites s SET beds_used = c.n FROM (
        SELECT t.id, least(count(a.id), t.beds)::int AS n FROM isolation_sites t
        LEFT JOIN isolation_beds b ON b.site_id = t.id
        LEFT JOIN isolation_rooms r ON r.id = b.room_id AND NOT r.reserve
        LEFT JOIN bed_assignments a ON a.bed_id = b.id AND r.id IS NOT NULL
            AND a.starts_at <= now() AND (a.ends_at IS NULL OR a.ends_at > now())
        WHERE t.id IN ({sites}) GROUP BY t.id
    ) c WHERE c.id = s.id AND s.beds_used IS DISTINCT FROM c.n
"""
"""The sites' ordinary beds (not in reserve rooms) taken now, at most their beds (the CHECK
of migration 0003); only the rows whose figure changes are written."""

CHANGED_SITES = {
    "added": "SELECT b.site_id FROM new_rows n JOIN isolation_beds b ON b.id = n.bed_id",
    "changed": (
        "SELECT b.site_id FROM (SELECT bed_id FROM new_rows UNION SELECT bed_id FROM old_rows) n"
        " JOIN isolation_beds b ON b.id = n.bed_id"
    ),
    "removed": "SELECT b.site_id FROM old_rows n JOIN isolation_beds b ON b.id = n.bed_id",
}
TRIGGERS = {
    "added": "AFTER INSERT ON bed_assignments REFERENCING NEW TABLE AS new_rows",
    "changed": (
        "AFTER UPDATE ON bed_assignments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
    "removed": "AFTER DELETE ON bed_assignments REFERENCING OLD TABLE AS old_rows",
}

END_AT_RELEASE = """
    UPDATE bed_assignments a SET ends_at = greatest(q.released_at, a.starts_at + interval '1 microsecond')
    FROM {released} q
    WHERE a.quarantine_id = q.id AND q.released_at IS NOT NULL
      AND (a.ends_at IS NULL OR a.ends_at > greatest(q.released_at, a.starts_at + interval '1 microsecond'))
"""  # noqa: E501
"""Open assignments (or ones ending later) of released quarantines end at the release."""


def upgrade() -> None:
    op.execute(TAKEN)
    for name, sites in CHANGED_SITES.items():
        op.execute(
            f"CREATE FUNCTION bed_assignments_{name}() RETURNS trigger LANGUAGE plpgsql "
            f"{DEFINER} AS $$ BEGIN {RECOUNT.format(sites=sites)}; RETURN NULL; END $$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION bed_assignments_{name}() FROM PUBLIC")
        op.execute(
            f"CREATE TRIGGER bed_assignments_{name} {TRIGGERS[name]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION bed_assignments_{name}()"
        )
    op.execute(
        "CREATE FUNCTION quarantines_free_beds() RETURNS trigger LANGUAGE plpgsql "  # noqa: S608 (constants of this migration)
        f"{DEFINER} AS $$ BEGIN "
        "IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id "
        "WHERE n.released_at IS DISTINCT FROM o.released_at) THEN "
        f"{END_AT_RELEASE.format(released='new_rows')}; END IF; RETURN NULL; END $$"
    )
    op.execute("REVOKE ALL ON FUNCTION quarantines_free_beds() FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER quarantines_free_beds AFTER UPDATE ON quarantines "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION quarantines_free_beds()"
    )
    op.execute(END_AT_RELEASE.format(released="quarantines"))
    op.execute(RECOUNT.format(sites="SELECT id FROM isolation_sites"))


def downgrade() -> None:
    op.execute("DROP TRIGGER quarantines_free_beds ON quarantines")
    op.execute("DROP FUNCTION quarantines_free_beds()")
    for name in CHANGED_SITES:
        op.execute(f"DROP TRIGGER bed_assignments_{name} ON bed_assignments")
        op.execute(f"DROP FUNCTION bed_assignments_{name}()")
    op.execute("DROP FUNCTION isolation_beds_taken(timestamptz, boolean)")
