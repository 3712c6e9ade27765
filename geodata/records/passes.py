"""Passes for an enterprise's returning staff: a number, the person (a resident of the town by
source id, or anyone else by name and ID number, which are personal data) and the days the
pass is valid. Refused before the enterprise's approval (its latest review approved, or
approved with conditions, on or before the first day) and for a resident in active
quarantine. Scope is a list of village ids (the enterprise's village; None: the town)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth.masking import mask_id_number, mask_name
from geodata.identifiers import identifier_problem
from geodata.records import enterprises
from geodata.records.refusal import RecordRefused
from geodata.records.village_scope import IN_VILLAGES

ID_NUMBER = re.compile(r"\d{15}|\d{17}[\dXx]")
"""A resident identity card number: 18 characters (the last a digit or X), or the old 15."""
APPROVED = ("approved", "conditional")


@dataclass(frozen=True, kw_only=True)
class PassFields:
    enterprise: str
    valid_from: date | None
    valid_until: date | None
    resident: str | None = None
    name: str | None = None
    id_number: str | None = None


def _person(
    conn: Connection, record: str, f: PassFields
) -> tuple[int | None, str | None, str | None]:
    """(resident id, name, ID number): one of the two ways of naming the person."""
    name = (f.name or "").strip() or None
    id_number = (f.id_number or "").strip().upper() or None
    if f.resident:
        if name or id_number:
            raise RecordRefused(
                f"{record}: resident: give the resident or name and id_number, not both"
            )
        row = conn.execute(
            text("SELECT id FROM residents WHERE source_id = :s"), {"s": f.resident}
        ).one_or_none()
        if row is None:
            raise RecordRefused(f"{record}: resident: {f.resident!r}: no such resident")
        active = conn.execute(
            text("SELECT 1 FROM quarantines WHERE resident_id = :r AND status = 'active'"),
            {"r": row.id},
        ).first()
        if active is not None:
            raise RecordRefused(f"{record}: resident: {f.resident!r} is in active quarantine")
        return int(row.id), None, None
    if name is None:
        raise RecordRefused(f"{record}: name: required (or a resident's source id)")
    if id_number is None:
        raise RecordRefused(f"{record}: id_number: required with a name")
    if ID_NUMBER.fullmatch(id_number) is None:
        raise RecordRefused(
            f"{record}: id_number: not an identity card number (15 or 18 characters)"
        )
    return None, name, id_number


def _checked(conn: Connection, number: str, f: PassFields) -> dict[str, Any]:
    problem = identifier_problem(number)
    if problem is not None or len(number) > 32:
        raise RecordRefused(f"pass: number: {problem or 'at most 32 characters'}")
    record = f"pass {number!r}"
    company = enterprises.ref(conn, f.enterprise, record)
    if f.valid_from is None:
        raise RecordRefused(f"{record}: valid_from: required")
    if f.valid_until is None:
        raise RecordRefused(f"{record}: valid_until: required")
    if f.valid_until < f.valid_from:
        raise RecordRefused(
            f"{record}: valid_until: {f.valid_until} is before valid_from {f.valid_from}"
        )
    if company.state not in APPROVED:
        raise RecordRefused(
            f"{record}: enterprise: {f.enterprise!r} is not approved to resume ({company.state})"
        )
    if f.valid_from < company.reviewed_on:
        raise RecordRefused(
            f"{record}: valid_from: {f.valid_from} is before the enterprise's approval on"
            f" {company.reviewed_on}"
        )
    resident_id, name, id_number = _person(conn, record, f)
    return {"n": number, "e": company.id, "r": resident_id, "name": name, "idn": id_number,
            "f": f.valid_from, "u": f.valid_until}  # fmt: skip


def upsert(conn: Connection, number: str, f: PassFields, *, actor: str) -> tuple[str, int]:
    """Issue a pass, or update the pass of that number: ('inserted' | 'updated' |
    'unchanged', id). Every rule is checked again on a change."""
    stored = conn.execute(
        text(
            "SELECT p.id, e.source_id AS enterprise, r.source_id AS resident, p.person_name,"
            " p.person_id_number, p.valid_from, p.valid_until FROM passes AS p"
            " JOIN enterprises AS e ON e.id = p.enterprise_id"
            " LEFT JOIN residents AS r ON r.id = p.resident_id WHERE p.number = :n"
        ),
        {"n": number},
    ).one_or_none()
    if stored is not None and (
        stored.enterprise, stored.resident or None, stored.person_name,
        stored.person_id_number, stored.valid_from, stored.valid_until,
    ) == (
        f.enterprise, f.resident or None, (f.name or "").strip() or None,
        (f.id_number or "").strip().upper() or None, f.valid_from, f.valid_until,
    ):  # fmt: skip
        return "unchanged", int(stored.id)
    row = _checked(conn, number, f)
    if stored is None:
        new = conn.execute(
            text(
                "INSERT INTO passes (number, enterprise_id, resident_id, person_name,"
                " person_id_number, valid_from, valid_until, issued_by)"
                " VALUES (:n, :e, :r, :name, :idn, :f, :u, :by) RETURNING id"
            ),
            {**row, "by": actor},
        ).scalar_one()
        return "inserted", int(new)
    conn.execute(
        text(
            "UPDATE passes SET enterprise_id = :e, resident_id = :r, person_name = :name,"
            " person_id_number = :idn, valid_from = :f, valid_until = :u, updated_at = now()"
            " WHERE id = :i"
        ),
        {**row, "i": stored.id},
    )
    return "updated", int(stored.id)


def listed(
    conn: Connection,
    villages: list[int] | None,
    *,
    enterprise: str | None = None,
    reveal: bool = False,
) -> list[dict[str, Any]]:
    """The passes of enterprises in scope; names and ID numbers masked unless `reveal`."""
    rows = conn.execute(
        text(
            "SELECT p.id, p.number, e.source_id AS enterprise, r.source_id AS resident,"  # noqa: S608 (constants; values are bound)
            " p.person_name, p.person_id_number, p.valid_from, p.valid_until, p.issued_by"
            " FROM passes AS p JOIN enterprises AS e ON e.id = p.enterprise_id"
            " LEFT JOIN residents AS r ON r.id = p.resident_id"
            f" WHERE {IN_VILLAGES.format(village='e.village_id')}"
            " AND (CAST(:e AS text) IS NULL OR e.source_id = :e) ORDER BY p.number"
        ),
        {"villages": villages, "e": enterprise},
    ).mappings()
    return [
        {
            "id": r["id"],
            "number": r["number"],
            "enterprise": r["enterprise"],
            "resident": r["resident"],
            "name": r["person_name"] if reveal else mask_name(r["person_name"]),
            "id_number": r["person_id_number"] if reveal else mask_id_number(r["person_id_number"]),
            "valid_from": r["valid_from"].isoformat(),
            "valid_until": r["valid_until"].isoformat(),
        }
        for r in rows
    ]
