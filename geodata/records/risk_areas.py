"""Risk areas: the outbreak areas admins keep, each with the days it is one (from, until;
no end: still one). Retired rather than removed, so that staff counts naming it stay readable."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text

from geodata.identifiers import identifier_problem
from geodata.records.refusal import RecordRefused


def parse_day(record: str, field: str, value: str | date | None) -> date | None:
    """An ISO day, or None for an empty value; refusals name the record and the field."""
    if value is None or isinstance(value, date):
        return value
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise RecordRefused(f"{record}: {field}: {value!r} is not a day (YYYY-MM-DD)") from None


def add(
    conn: Connection,
    code: str,
    *,
    name: str,
    from_day: date,
    until_day: date | None,
    actor: str,
) -> int:
    """A new risk area; refused for a code in use, an empty name or days reversed."""
    record = f"risk area {code!r}"
    problem = identifier_problem(code)
    if problem is not None or len(code) > 32:
        raise RecordRefused(f"risk area: code: {problem or 'at most 32 characters'}")
    if not name.strip():
        raise RecordRefused(f"{record}: name: empty")
    if until_day is not None and until_day < from_day:
        raise RecordRefused(f"{record}: until: {until_day} is before from {from_day}")
    new = conn.execute(
        text(
            "INSERT INTO risk_areas (code, name, from_day, until_day, created_by)"
            " VALUES (:c, :n, :f, :u, :by) ON CONFLICT (code) DO NOTHING RETURNING id"
        ),
        {"c": code, "n": name.strip(), "f": from_day, "u": until_day, "by": actor},
    ).scalar_one_or_none()
    if new is None:
        raise RecordRefused(f"{record}: code: exists already")
    return int(new)


def retire(conn: Connection, code: str, *, at: datetime) -> int:
    """Retire a risk area (kept, no longer offered); refused when unknown or retired."""
    row = conn.execute(
        text("SELECT id, retired_at FROM risk_areas WHERE code = :c"), {"c": code}
    ).one_or_none()
    if row is None:
        raise RecordRefused(f"risk area {code!r}: code: no such risk area")
    if row.retired_at is not None:
        raise RecordRefused(f"risk area {code!r}: code: retired already")
    conn.execute(
        text("UPDATE risk_areas SET retired_at = :at WHERE id = :i"), {"at": at, "i": row.id}
    )
    return int(row.id)


def ids_by_code(conn: Connection, codes: list[str], record: str) -> dict[str, int]:
    """The ids of risk areas in use (not retired), by code; an unknown one is refused."""
    found: dict[str, int] = dict(
        conn.execute(
            text("SELECT code, id FROM risk_areas WHERE code = ANY(:c) AND retired_at IS NULL"),
            {"c": codes},
        ).all()
    )
    for code in codes:
        if code not in found:
            raise RecordRefused(f"{record}: risk_staff: {code!r}: no such risk area")
    return {code: int(i) for code, i in found.items()}


def listed(
    conn: Connection, *, on: date | None = None, retired: bool = False
) -> list[dict[str, Any]]:
    """Risk areas by code: those in force on `on` (any day when None), retired ones if asked."""
    rows = conn.execute(
        text(
            "SELECT code, name, from_day, until_day, retired_at FROM risk_areas"
            " WHERE (CAST(:retired AS boolean) OR retired_at IS NULL)"
            " AND (CAST(:on AS date) IS NULL OR (from_day <= :on"
            " AND (until_day IS NULL OR until_day >= :on)))"
            " ORDER BY code"
        ),
        {"retired": retired, "on": on},
    ).mappings()
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "from": r["from_day"].isoformat(),
            "until": None if r["until_day"] is None else r["until_day"].isoformat(),
            "retired_at": None if r["retired_at"] is None else r["retired_at"].isoformat(),
        }
        for r in rows
    ]
