"""The rules of the people layers (teams, staff, shifts, shift-staff) across rows and tables,
checked in SQL on the staging table: before the upsert (what the database would refuse with a
bare constraint name) and after it (what needs the rows just written: a team's parent in the
same file). Each problem names the row, the field and the objects by source id; a person's
name or phone is never part of a reason."""

from __future__ import annotations

from sqlalchemy import Connection, text

from geodata.imports.layers import LayerSpec
from geodata.imports.report import Issue, Layer
from geodata.imports.staging import STAGE
from geodata.imports.validate import ROW

MAX_SHIFT_HOURS = 24
"""A shift lasts at most this long."""

_SHIFT_TIMES = f"""
    SELECT s."{ROW}", CASE WHEN s.ends_at <= s.starts_at THEN 'ends at or before its start'
        ELSE 'lasts more than {MAX_SHIFT_HOURS} h' END
    FROM {STAGE} s
    WHERE s.ends_at <= s.starts_at OR s.ends_at - s.starts_at > interval '{MAX_SHIFT_HOURS} hours'
"""  # noqa: S608 (STAGE and ROW are constants; the file's values are never pasted)

_ONE_POST = f"""
    SELECT s."{ROW}", CASE WHEN s.checkpoint_source_id IS NULL
        THEN 'give the checkpoint or the patrol zone (patrol_zone_source_id) of the shift'
        ELSE 'a shift is at a checkpoint or on a patrol zone, not both' END
    FROM {STAGE} s
    WHERE (s.checkpoint_source_id IS NULL) = (s.patrol_zone_source_id IS NULL)
"""  # noqa: S608 (STAGE and ROW are constants; the file's values are never pasted)

_OUTSIDE_VILLAGE = f"""
    SELECT s."{ROW}", 'staff ' || quote_literal(st.source_id) || ' of village '
        || sv.code || ' cannot be on shift ' || quote_literal(s.shift_source_id)
        || CASE WHEN c.id IS NULL THEN ' of a patrol zone' ELSE ' of a checkpoint' END
        || ' of village ' || cv.code
    FROM {STAGE} s
    JOIN staff st ON st.id = s.staff_id
    JOIN checkpoint_shifts sh ON sh.id = s.shift_id
    LEFT JOIN checkpoints c ON c.id = sh.checkpoint_id
    LEFT JOIN patrol_zones z ON z.id = sh.patrol_zone_id
    JOIN villages sv ON sv.id = st.village_id
    JOIN villages cv ON cv.id = coalesce(c.village_id, z.village_id)
    WHERE coalesce(c.village_id, z.village_id) <> st.village_id
"""  # noqa: S608 (STAGE and ROW are constants; the file's values are never pasted)

_OVERLAPS = f"""
    WITH new AS (
        SELECT s."{ROW}" AS row, s.staff_id, s.shift_id, s.staff_source_id, s.shift_source_id,
               sh.starts_at, sh.ends_at
        FROM {STAGE} s JOIN checkpoint_shifts sh ON sh.id = s.shift_id
        WHERE NOT EXISTS (
            SELECT 1 FROM shift_staff x WHERE x.shift_id = s.shift_id AND x.staff_id = s.staff_id)
    ), taken AS (
        SELECT x.staff_id, x.shift_id, x.starts_at, x.ends_at, NULL::bigint AS row
        FROM shift_staff x WHERE x.staff_id IN (SELECT staff_id FROM new)
        UNION ALL
        SELECT staff_id, shift_id, starts_at, ends_at, row FROM new
    )
    SELECT DISTINCT ON (n.row) n.row, 'staff ' || quote_literal(n.staff_source_id)
        || ' on shift ' || quote_literal(n.shift_source_id) || ' would also be on shift '
        || coalesce(quote_literal(o.source_id), 'id ' || o.id) || ', which overlaps it'
        || CASE WHEN t.row IS NULL THEN '' ELSE ' (line ' || t.row || ')' END
    FROM new n
    JOIN taken t ON t.staff_id = n.staff_id AND t.shift_id <> n.shift_id
        AND tstzrange(t.starts_at, t.ends_at) && tstzrange(n.starts_at, n.ends_at)
        AND (t.row IS NULL OR t.row < n.row)
    JOIN checkpoint_shifts o ON o.id = t.shift_id
    ORDER BY n.row, t.row NULLS FIRST
"""  # noqa: S608 (STAGE and ROW are constants; the file's values are never pasted)

_MOVED_ONTO = f"""
    SELECT DISTINCT ON (s."{ROW}") s."{ROW}", 'staff ' || quote_literal(st.source_id)
        || ' on shift ' || quote_literal(s.source_id) || ' would also be on shift '
        || coalesce(quote_literal(o.source_id), 'id ' || o.id) || ', which it would overlap'
    FROM {STAGE} s
    JOIN checkpoint_shifts me ON me.source_id = s.source_id
    JOIN shift_staff x ON x.shift_id = me.id
    JOIN staff st ON st.id = x.staff_id
    JOIN shift_staff y ON y.staff_id = x.staff_id AND y.shift_id <> me.id
    JOIN checkpoint_shifts o ON o.id = y.shift_id
    LEFT JOIN {STAGE} so ON so.source_id = o.source_id
    WHERE (s.starts_at, s.ends_at) IS DISTINCT FROM (me.starts_at, me.ends_at)
      AND tstzrange(s.starts_at, s.ends_at) && tstzrange(
        coalesce(so.starts_at, o.starts_at), coalesce(so.ends_at, o.ends_at))
    ORDER BY s."{ROW}", o.id
"""  # noqa: S608 (STAGE and ROW are constants; the file's values are never pasted)

_TEAM_PARENT = f"""
    SELECT s."{ROW}", CASE
        WHEN s.parent_id IS NULL THEN 'no teams has source id ' || quote_literal(s.parent_source_id)
        WHEN s.kind = 'combat_unit' THEN 'a combat unit has no parent'
        WHEN p.kind <> 'combat_unit' THEN 'the parent ' || quote_literal(p.source_id)
            || ' is a ' || p.kind || ' team, not a combat unit'
        ELSE 'the parent ' || quote_literal(p.source_id) || ' is of another village' END
    FROM {STAGE} s LEFT JOIN teams p ON p.id = s.parent_id
    WHERE s.parent_source_id IS NOT NULL AND (s.parent_id IS NULL OR s.kind = 'combat_unit'
        OR p.kind <> 'combat_unit' OR p.village_id <> s.village_id)
"""  # noqa: S608 (STAGE and ROW are constants; the file's values are never pasted)

_STAFF_UNIT = f"""
    SELECT s."{ROW}", 'team', 'the team ' || quote_literal(s.team_source_id)
        || ' is of another village'
    FROM {STAGE} s JOIN teams t ON t.id = s.team_id WHERE t.village_id <> s.village_id
    UNION ALL
    SELECT s."{ROW}", 'grid', 'the grid ' || quote_literal(s.grid_code) || ' is of another village'
    FROM {STAGE} s JOIN grids g ON g.id = s.grid_id WHERE g.village_id <> s.village_id
    UNION ALL
    SELECT DISTINCT ON (s."{ROW}") s."{ROW}", 'village', 'staff ' || quote_literal(s.source_id)
        || ' is on shift ' || coalesce(quote_literal(sh.source_id), 'id ' || sh.id)
        || ' of a checkpoint of another village'
    FROM {STAGE} s
    JOIN staff st ON st.source_id = s.source_id
    JOIN shift_staff x ON x.staff_id = st.id
    JOIN checkpoint_shifts sh ON sh.id = x.shift_id
    JOIN checkpoints c ON c.id = sh.checkpoint_id
    WHERE c.village_id <> s.village_id
"""  # noqa: S608 (STAGE and ROW are constants; the file's values are never pasted)


def before_upsert(conn: Connection, spec: LayerSpec, *, row_kind: str) -> list[Issue]:
    """Problems found on the staged rows with their links resolved, before anything is written."""
    if spec.layer is Layer.SHIFTS:
        posts = _issues(conn, _ONE_POST, "checkpoint_source_id", row_kind)
        times = posts or _issues(conn, _SHIFT_TIMES, "ends_at", row_kind)
        return times or _issues(conn, _MOVED_ONTO, "starts_at", row_kind)
    if spec.layer is Layer.STAFF:
        return _field_issues(conn, _STAFF_UNIT, row_kind)
    if spec.layer is Layer.SHIFT_STAFF:
        outside = _issues(conn, _OUTSIDE_VILLAGE, "staff_source_id", row_kind)
        return outside or _issues(conn, _OVERLAPS, "staff_source_id", row_kind)
    return []


def after_upsert(conn: Connection, spec: LayerSpec, *, row_kind: str) -> list[Issue]:
    """Links to the layer's own table, resolved once every row is in; their problems."""
    if spec.layer is not Layer.TEAMS:
        return []
    conn.execute(
        text(
            f"UPDATE {STAGE} s SET parent_id = t.id FROM teams t "  # noqa: S608 (STAGE is a constant)
            "WHERE t.source_id = s.parent_source_id AND s.parent_id IS NULL"
        )
    )
    issues = _issues(conn, _TEAM_PARENT, "parent_source_id", row_kind)
    if issues:
        return issues
    conn.execute(
        text(
            f"UPDATE teams t SET parent_id = s.parent_id FROM {STAGE} s "  # noqa: S608 (STAGE is a constant)
            "WHERE t.source_id = s.source_id AND t.parent_id IS DISTINCT FROM s.parent_id"
        )
    )
    return []


def _issue(row: int, reason: str, field: str, row_kind: str) -> Issue:
    if row_kind == "line":
        return Issue(reason=reason, line=row, field=field)
    return Issue(reason=reason, feature=row, field=field)


def _issues(conn: Connection, sql: str, field: str, row_kind: str) -> list[Issue]:
    rows = conn.execute(text(sql)).all()
    return sorted(
        (_issue(int(r[0]), str(r[1]), field, row_kind) for r in rows),
        key=lambda i: i.line or i.feature or 0,
    )


def _field_issues(conn: Connection, sql: str, row_kind: str) -> list[Issue]:
    fields = {"team": "team_source_id", "grid": "grid_code", "village": "village_code"}
    rows = conn.execute(text(sql)).all()
    return sorted(
        (_issue(int(r[0]), str(r[2]), fields[str(r[1])], row_kind) for r in rows),
        key=lambda i: i.line or i.feature or 0,
    )
