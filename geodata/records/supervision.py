"""Supervision (督导) records: a checkpoint's daily inspections and the rectification items
found there (open → fixed → verified, the fixer never the verifier), the overdue list and
the checkpoints not inspected on a day. Scope is a list of village ids (None: the town)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geodata.records.refusal import RecordRefused

CHECKLIST = ("staff_present", "temperatures_taken", "register_kept", "masks", "disinfection")
OVERDUE_STATES = ("open", "fixed")
"""An item still to put right (open) or to verify (fixed) is overdue past its deadline."""


def _scope(villages: list[int] | None, column: str) -> str:
    return "TRUE" if villages is None else f"{column} = ANY(:villages)"


def checkpoint_ref(conn: Connection, source_id: str) -> Any:
    """A checkpoint by its source id: id, source_id, village_id; refused when unknown."""
    row = conn.execute(
        text("SELECT id, source_id, village_id FROM checkpoints WHERE source_id = :s"),
        {"s": source_id},
    ).one_or_none()
    if row is None:
        raise RecordRefused(f"checkpoint {source_id!r}: no such checkpoint")
    return row


def staff_ref(conn: Connection, source_id: str, *, field: str) -> int:
    """A serving person by source id; refused (naming the field) when unknown or retired."""
    row = conn.execute(
        text("SELECT id, retired_at FROM staff WHERE source_id = :s"), {"s": source_id}
    ).one_or_none()
    if row is None:
        raise RecordRefused(f"{field} {source_id!r}: no such staff")
    if row.retired_at is not None:
        raise RecordRefused(f"{field} {source_id!r}: retired")
    return int(row.id)


def add_inspection(
    conn: Connection,
    *,
    checkpoint_id: int,
    inspector_id: int,
    at: datetime,
    checklist: dict[str, bool],
    notes: str | None,
) -> int:
    return int(
        conn.execute(
            text(
                "INSERT INTO inspections (checkpoint_id, inspector_id, at, staff_present,"
                " temperatures_taken, register_kept, masks, disinfection, notes)"
                " VALUES (:c, :i, :at, :staff_present, :temperatures_taken, :register_kept,"
                " :masks, :disinfection, :notes) RETURNING id"
            ),
            {"c": checkpoint_id, "i": inspector_id, "at": at, "notes": notes, **checklist},
        ).scalar_one()
    )


def inspections(
    conn: Connection, villages: list[int] | None, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The inspections in [start, end) of the checkpoints of these villages, latest first."""
    rows = conn.execute(
        text(
            "SELECT i.id, c.source_id AS checkpoint, s.source_id AS inspector, i.at,"  # noqa: S608 (the scope is one of two constant clauses; values are bound)
            " i.staff_present, i.temperatures_taken, i.register_kept, i.masks, i.disinfection,"
            " i.notes FROM inspections AS i JOIN checkpoints AS c ON c.id = i.checkpoint_id"
            " JOIN staff AS s ON s.id = i.inspector_id"
            f" WHERE i.at >= :start AND i.at < :end AND {_scope(villages, 'c.village_id')}"
            " ORDER BY i.at DESC, i.id DESC"
        ),
        {"start": start, "end": end, "villages": villages},
    ).mappings()
    return [{**row, "at": row["at"].isoformat()} for row in rows]


def not_inspected(
    conn: Connection, villages: list[int] | None, start: datetime, end: datetime
) -> list[str]:
    """Source ids of the active checkpoints with no inspection in [start, end)."""
    return list(
        conn.execute(
            text(
                "SELECT c.source_id FROM checkpoints AS c"  # noqa: S608 (the scope is one of two constant clauses; values are bound)
                f" WHERE c.state = 'active' AND {_scope(villages, 'c.village_id')}"
                " AND NOT EXISTS (SELECT 1 FROM inspections AS i WHERE i.checkpoint_id = c.id"
                " AND i.at >= :start AND i.at < :end) ORDER BY c.source_id"
            ),
            {"start": start, "end": end, "villages": villages},
        ).scalars()
    )


def add_rectification(
    conn: Connection,
    *,
    checkpoint_id: int,
    inspection_id: int | None,
    description: str,
    owner_id: int,
    deadline: datetime,
) -> int:
    if inspection_id is not None:
        found = conn.execute(
            text("SELECT checkpoint_id FROM inspections WHERE id = :i"), {"i": inspection_id}
        ).scalar_one_or_none()
        if found != checkpoint_id:
            raise RecordRefused(
                f"rectification: inspection {inspection_id}: no such inspection of this checkpoint"
            )
    return int(
        conn.execute(
            text(
                "INSERT INTO rectifications (checkpoint_id, inspection_id, description, owner_id,"
                " deadline) VALUES (:c, :i, :d, :o, :dl) RETURNING id"
            ),
            {
                "c": checkpoint_id,
                "i": inspection_id,
                "d": description,
                "o": owner_id,
                "dl": deadline,
            },
        ).scalar_one()
    )


_ITEM = (
    "SELECT r.id, c.source_id AS checkpoint, c.village_id, r.inspection_id AS inspection,"
    " r.description, o.source_id AS owner, r.deadline, r.status,"
    " f.source_id AS fixed_by, r.fixed_at, v.source_id AS verified_by, r.verified_at, r.version"
    " FROM rectifications AS r JOIN checkpoints AS c ON c.id = r.checkpoint_id"
    " JOIN staff AS o ON o.id = r.owner_id LEFT JOIN staff AS f ON f.id = r.fixed_by_id"
    " LEFT JOIN staff AS v ON v.id = r.verified_by_id"
)


def _plain(row: Any) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in dict(row).items()
        if k != "village_id"
    }


def rectification(conn: Connection, item_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    """One item with its checkpoint's village (`village_id`), or None."""
    row = (
        conn.execute(
            text(_ITEM + " WHERE r.id = :id" + (" FOR UPDATE OF r" if lock else "")),
            {"id": item_id},
        )
        .mappings()
        .one_or_none()
    )
    return None if row is None else {**_plain(row), "village_id": row["village_id"]}


def rectifications(
    conn: Connection,
    villages: list[int] | None,
    *,
    status: str | None = None,
    overdue_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Items of the checkpoints of these villages, by deadline; `overdue_at`: only the open
    or fixed-not-verified items whose deadline passed before that moment."""
    where = [_scope(villages, "c.village_id")]
    if status is not None:
        where.append("r.status = :status")
    if overdue_at is not None:
        where.append("r.status IN ('open', 'fixed') AND r.deadline < :at")
    rows = conn.execute(
        text(_ITEM + " WHERE " + " AND ".join(where) + " ORDER BY r.deadline, r.id"),
        {"villages": villages, "status": status, "at": overdue_at},
    ).mappings()
    return [_plain(row) for row in rows]


def overdue_checkpoints(conn: Connection, at: datetime) -> list[str]:
    """Source ids of the checkpoints with an overdue item at the moment."""
    return list(
        conn.execute(
            text(
                "SELECT DISTINCT c.source_id FROM rectifications AS r"
                " JOIN checkpoints AS c ON c.id = r.checkpoint_id"
                " WHERE r.status IN ('open', 'fixed') AND r.deadline < :at ORDER BY 1"
            ),
            {"at": at},
        ).scalars()
    )


def fix(conn: Connection, item_id: int, *, by: int, at: datetime, version: int) -> bool:
    """Mark an open item fixed; False when the version is not the one seen (nothing changed).
    Refused when the item is not open."""
    return _step(conn, item_id, version, "fixed", by, at, expected="open")


def verify(conn: Connection, item_id: int, *, by: int, at: datetime, version: int) -> bool:
    """Mark a fixed item verified by someone other than its fixer (the database's
    verifier_not_fixer refuses otherwise: refused here by name)."""
    return _step(conn, item_id, version, "verified", by, at, expected="fixed")


def _step(
    conn: Connection,
    item_id: int,
    version: int,
    status: str,
    by: int,
    at: datetime,
    *,
    expected: str,
) -> bool:
    current = conn.execute(
        text("SELECT status, version FROM rectifications WHERE id = :id FOR UPDATE"),
        {"id": item_id},
    ).one_or_none()
    if current is None:
        raise RecordRefused(f"rectification {item_id}: no such item")
    if current.version != version:
        return False
    if current.status != expected:
        raise RecordRefused(
            f"rectification {item_id}: status: is {current.status}, must be {expected} to be"
            f" {status}"
        )
    who, when = (
        ("fixed_by_id", "fixed_at") if status == "fixed" else ("verified_by_id", "verified_at")
    )
    try:
        with conn.begin_nested():
            conn.execute(
                text(
                    f"UPDATE rectifications SET status = :status, {who} = :by, {when} = :at,"  # noqa: S608 (column names from the two constant pairs above)
                    " version = version + 1, updated_at = now() WHERE id = :id"
                ),
                {"status": status, "by": by, "at": at, "id": item_id},
            )
    except IntegrityError as exc:
        if "verifier_not_fixer" in str(exc.orig):
            raise RecordRefused(
                f"rectification {item_id}: verified_by: the person who fixed an item cannot"
                " verify it"
            ) from None
        raise
    return True
