"""Staff and teams: add, edit, retire and list, named by source id (villages and grids by
code). A retired person or team keeps its row; the history that names it stays whole."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from geodata.records.refusal import RecordRefused
from geodata.vocab import StaffRole, TeamKind

GROUP_KINDS = frozenset(
    {TeamKind.HOUSEHOLD_VISIT, TeamKind.CHECKPOINT, TeamKind.EMERGENCY, TeamKind.PATROL}
)
"""The groups of a combat unit (入户组, 卡点组, 应急组, 巡逻组)."""


def village_id(conn: Connection, code: str) -> int:
    found = conn.execute(text("SELECT id FROM villages WHERE code = :c"), {"c": code}).scalar()
    if found is None:
        raise RecordRefused(f"village {code!r}: unknown village code")
    return int(found)


def _grid(conn: Connection, code: str) -> Any:
    row = conn.execute(
        text("SELECT id, village_id FROM grids WHERE code = :c"), {"c": code}
    ).one_or_none()
    if row is None:
        raise RecordRefused(f"grid {code!r}: unknown grid code")
    return row


def team(conn: Connection, source_id: str) -> Any:
    """A team's row (id, kind, village_id, parent_id, retired_at), or a refusal."""
    row = conn.execute(
        text(
            "SELECT id, source_id, kind, village_id, parent_id, retired_at FROM teams "
            "WHERE source_id = :s"
        ),
        {"s": source_id},
    ).one_or_none()
    if row is None:
        raise RecordRefused(f"team {source_id!r}: unknown team")
    return row


def staff(conn: Connection, source_id: str) -> Any:
    """A person's row (id, village_id, team_id, grid_id, retired_at), or a refusal."""
    row = conn.execute(
        text(
            "SELECT id, source_id, village_id, team_id, grid_id, retired_at FROM staff "
            "WHERE source_id = :s"
        ),
        {"s": source_id},
    ).one_or_none()
    if row is None:
        raise RecordRefused(f"staff {source_id!r}: unknown staff")
    return row


def _exists(conn: Connection, table: str, source_id: str) -> bool:
    return bool(
        conn.execute(
            text(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE source_id = :s)"),  # noqa: S608 (table is 'staff' or 'teams')
            {"s": source_id},
        ).scalar()
    )


def _staff_links(
    conn: Connection, who: str, village: int, team_source: str | None, grid_code: str | None
) -> dict[str, int | None]:
    """The team and grid of a person, refused when outside the person's village."""
    links: dict[str, int | None] = {}
    if team_source is not None:
        row = team(conn, team_source)
        if row.retired_at is not None:
            raise RecordRefused(f"staff {who!r}: team: {team_source!r} is retired")
        if row.village_id != village:
            raise RecordRefused(f"staff {who!r}: team: {team_source!r} is in another village")
        links["team_id"] = int(row.id)
    if grid_code is not None:
        grid = _grid(conn, grid_code)
        if grid.village_id != village:
            raise RecordRefused(f"staff {who!r}: grid: {grid_code!r} is in another village")
        links["grid_id"] = int(grid.id)
    return links


def add_staff(
    conn: Connection,
    source_id: str,
    *,
    name: str,
    role: StaffRole,
    village: str,
    team: str | None = None,
    grid: str | None = None,
    phone: str | None = None,
) -> int:
    """A new person; their team and grid must be of their village."""
    if _exists(conn, "staff", source_id):
        raise RecordRefused(f"staff {source_id!r}: source id exists already (use edit)")
    if not name.strip():
        raise RecordRefused(f"staff {source_id!r}: name: empty")
    vid = village_id(conn, village)
    links = _staff_links(conn, source_id, vid, team, grid)
    return int(
        conn.execute(
            text(
                "INSERT INTO staff (source_id, name, role, village_id, team_id, grid_id, phone) "
                "VALUES (:s, :n, :r, :v, :t, :g, :p) RETURNING id"
            ),
            {"s": source_id, "n": name.strip(), "r": role.value, "v": vid,
             "t": links.get("team_id"), "g": links.get("grid_id"), "p": phone},
        ).scalar_one()
    )  # fmt: skip


def edit_staff(
    conn: Connection,
    source_id: str,
    *,
    name: str | None = None,
    role: StaffRole | None = None,
    village: str | None = None,
    team: str | None = None,
    grid: str | None = None,
    phone: str | None = None,
) -> list[str]:
    """Change the fields given; returns the names of the fields changed."""
    row = staff(conn, source_id)
    if row.retired_at is not None:
        raise RecordRefused(f"staff {source_id!r}: retired, cannot be edited")
    values: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise RecordRefused(f"staff {source_id!r}: name: empty")
        values["name"] = name.strip()
    if role is not None:
        values["role"] = role.value
    vid = int(row.village_id) if village is None else village_id(conn, village)
    if village is not None:
        values["village_id"] = vid
    values.update(_staff_links(conn, source_id, vid, team, grid))
    if village is not None:  # links kept from before must follow the village too
        for column, table in (("team_id", "teams"), ("grid_id", "grids")):
            kept = getattr(row, column)
            if column not in values and kept is not None:
                other = conn.execute(
                    text(f"SELECT village_id FROM {table} WHERE id = :i"),  # noqa: S608 (fixed names)
                    {"i": kept},
                ).scalar()
                if other != vid:
                    raise RecordRefused(
                        f"staff {source_id!r}: {column[:-3]}: in another village than {village!r}"
                    )
    if phone is not None:
        values["phone"] = phone or None
    if values:
        sets = ", ".join(f"{column} = :{column}" for column in values)
        conn.execute(
            text(f"UPDATE staff SET {sets}, version = version + 1, updated_at = now() "  # noqa: S608 (column names of this function)
                 "WHERE id = :id"),
            {**values, "id": row.id},
        )  # fmt: skip
    return sorted(values)


def retire_staff(conn: Connection, source_id: str, *, at: datetime | None = None) -> int:
    """Retire a person; refused while they hold shifts that end after the retirement."""
    row = staff(conn, source_id)
    if row.retired_at is not None:
        raise RecordRefused(f"staff {source_id!r}: retired already")
    moment = at or datetime.now(UTC)
    later = conn.execute(
        text("SELECT count(*) FROM shift_staff WHERE staff_id = :p AND ends_at > :t"),
        {"p": row.id, "t": moment},
    ).scalar_one()
    if later:
        raise RecordRefused(
            f"staff {source_id!r}: still on {later} shift(s) ending after the retirement "
            "(take them off first: wangge shifts unassign)"
        )
    conn.execute(
        text("UPDATE staff SET retired_at = :t, version = version + 1 WHERE id = :i"),
        {"t": moment, "i": row.id},
    )
    return int(row.id)


def list_staff(
    conn: Connection, *, village: str | None = None, retired: bool = False
) -> list[dict[str, Any]]:
    """People with their village, team and grid; personal fields (name, phone) included."""
    rows = conn.execute(
        text(
            "SELECT s.id, s.source_id, s.name, s.role, s.phone, v.code AS village, "
            "t.source_id AS team, g.code AS grid, s.retired_at FROM staff s "
            "JOIN villages v ON v.id = s.village_id LEFT JOIN teams t ON t.id = s.team_id "
            "LEFT JOIN grids g ON g.id = s.grid_id WHERE (CAST(:v AS text) IS NULL OR v.code = :v) "
            "AND (:retired OR s.retired_at IS NULL) ORDER BY s.source_id"
        ),
        {"v": village, "retired": retired},
    ).mappings()
    return [dict(row) for row in rows]


def _team_parent(
    conn: Connection, who: str, kind: TeamKind, village: int, parent: str | None
) -> int | None:
    if parent is None:
        return None
    if kind is TeamKind.COMBAT_UNIT:
        raise RecordRefused(f"team {who!r}: parent: a combat unit has no parent")
    row = team(conn, parent)
    if row.kind != TeamKind.COMBAT_UNIT.value:
        raise RecordRefused(f"team {who!r}: parent: {parent!r} is not a combat unit")
    if row.village_id != village:
        raise RecordRefused(f"team {who!r}: parent: {parent!r} is in another village")
    if row.retired_at is not None:
        raise RecordRefused(f"team {who!r}: parent: {parent!r} is retired")
    return int(row.id)


def add_team(
    conn: Connection,
    source_id: str,
    *,
    name: str,
    kind: TeamKind,
    village: str,
    parent: str | None = None,
) -> int:
    """A new team: a combat unit (one per village), or a group under its village's unit."""
    if _exists(conn, "teams", source_id):
        raise RecordRefused(f"team {source_id!r}: source id exists already (use edit)")
    if not name.strip():
        raise RecordRefused(f"team {source_id!r}: name: empty")
    vid = village_id(conn, village)
    parent_id = _team_parent(conn, source_id, kind, vid, parent)
    if kind is TeamKind.COMBAT_UNIT:
        other = conn.execute(
            text("SELECT source_id FROM teams WHERE village_id = :v AND kind = 'combat_unit' "
                 "AND retired_at IS NULL"),
            {"v": vid},
        ).scalar()  # fmt: skip
        if other is not None:
            raise RecordRefused(
                f"team {source_id!r}: kind: village {village!r} has its combat unit {other!r}"
            )
    return int(
        conn.execute(
            text("INSERT INTO teams (source_id, name, kind, village_id, parent_id) "
                 "VALUES (:s, :n, :k, :v, :p) RETURNING id"),
            {"s": source_id, "n": name.strip(), "k": kind.value, "v": vid, "p": parent_id},
        ).scalar_one()
    )  # fmt: skip


def edit_team(
    conn: Connection, source_id: str, *, name: str | None = None, parent: str | None = None
) -> list[str]:
    """Rename a team or move a group under another combat unit of its village."""
    row = team(conn, source_id)
    if row.retired_at is not None:
        raise RecordRefused(f"team {source_id!r}: retired, cannot be edited")
    values: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise RecordRefused(f"team {source_id!r}: name: empty")
        values["name"] = name.strip()
    if parent is not None:
        values["parent_id"] = _team_parent(
            conn, source_id, TeamKind(row.kind), int(row.village_id), parent
        )
    if values:
        sets = ", ".join(f"{column} = :{column}" for column in values)
        conn.execute(
            text(f"UPDATE teams SET {sets}, version = version + 1, updated_at = now() "  # noqa: S608 (column names of this function)
                 "WHERE id = :id"),
            {**values, "id": row.id},
        )  # fmt: skip
    return sorted(values)


def retire_team(conn: Connection, source_id: str, *, at: datetime | None = None) -> int:
    """Retire a team; refused while people or groups that are not retired belong to it."""
    row = team(conn, source_id)
    if row.retired_at is not None:
        raise RecordRefused(f"team {source_id!r}: retired already")
    members = conn.execute(
        text("SELECT count(*) FROM staff WHERE team_id = :t AND retired_at IS NULL"),
        {"t": row.id},
    ).scalar_one()
    groups = conn.execute(
        text("SELECT count(*) FROM teams WHERE parent_id = :t AND retired_at IS NULL"),
        {"t": row.id},
    ).scalar_one()
    if members or groups:
        raise RecordRefused(
            f"team {source_id!r}: still has {members} member(s) and {groups} group(s) "
            "that are not retired"
        )
    conn.execute(
        text("UPDATE teams SET retired_at = :t, version = version + 1 WHERE id = :i"),
        {"t": at or datetime.now(UTC), "i": row.id},
    )
    return int(row.id)


def list_teams(
    conn: Connection, *, village: str | None = None, retired: bool = False
) -> list[dict[str, Any]]:
    """Teams with their village, parent and number of members."""
    rows = conn.execute(
        text(
            "SELECT t.id, t.source_id, t.name, t.kind, v.code AS village, p.source_id AS parent, "
            "(SELECT count(*) FROM staff s WHERE s.team_id = t.id AND s.retired_at IS NULL) "
            "AS members, t.retired_at FROM teams t JOIN villages v ON v.id = t.village_id "
            "LEFT JOIN teams p ON p.id = t.parent_id "
            "WHERE (CAST(:v AS text) IS NULL OR v.code = :v) "
            "AND (:retired OR t.retired_at IS NULL) ORDER BY t.source_id"
        ),
        {"v": village, "retired": retired},
    ).mappings()
    return [dict(row) for row in rows]
