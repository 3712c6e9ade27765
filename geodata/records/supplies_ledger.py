"""The supplies ledger: posting an entry (receipt, transfer, use, reversal), never changing one.

An entry that would leave any holder below zero of an item at the end of any town-time day
from the entry's day on is refused, backdated or not. Each (holder, item) that an entry takes
from is locked (a transaction-scoped advisory lock) before its days are read, so two entries
written at once are checked one after the other. Re-posting an entry unchanged is a no-op;
posting different content under a posted source id is refused naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from geodata.errors import ConflictError
from geodata.records.refusal import RecordRefused
from geodata.records.supplies_refs import holder, item_id
from geodata.records.town_settings import town_timezone

KINDS = ("receipt", "transfer", "use", "reversal")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """An entry as given (a command, a CSV row). For a reversal, item, quantity and holders
    may be left out: they follow from the entry reversed (holders swapped)."""

    source_id: str
    kind: str
    at: datetime
    item: str | None = None
    quantity: int | None = None
    from_holder: str | None = None
    to_holder: str | None = None
    donor: str | None = None
    reverses: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class _Resolved:
    kind: str
    item: str
    item_id: int
    quantity: int
    from_id: int | None
    to_id: int | None
    from_holder: str | None
    to_holder: str | None
    reverses_id: int | None


class EntryRefused(RecordRefused):
    """An entry refused: which one, the field and the reason (an import reports them apart)."""

    def __init__(self, source_id: str, field: str, reason: str) -> None:
        self.source_id, self.field, self.reason = source_id, field, reason
        super().__init__(f"ledger entry {source_id!r}: {field}: {reason}")


class EntryConflictError(EntryRefused, ConflictError):
    """An entry that clashes with the ledger as it is: its source id posted with other
    content, or an entry reversed already (exit code 1, HTTP 409)."""


def _refuse(entry: Entry, field: str, reason: str) -> EntryRefused:
    return EntryRefused(entry.source_id, field, reason)


def posted(conn: Connection, source_id: str) -> dict[str, Any] | None:
    """A posted entry as the ledger-entries file writes it, or None."""
    row = conn.execute(
        text(
            "SELECT e.source_id, e.kind, i.code AS item, e.quantity, f.source_id AS from_holder,"
            " t.source_id AS to_holder, e.at, e.donor, r.source_id AS reverses, e.reason, e.day"
            " FROM ledger_entries AS e JOIN supply_items AS i ON i.id = e.item_id"
            " LEFT JOIN supply_holders AS f ON f.id = e.from_holder_id"
            " LEFT JOIN supply_holders AS t ON t.id = e.to_holder_id"
            " LEFT JOIN ledger_entries AS r ON r.id = e.reverses_id WHERE e.source_id = :s"
        ),
        {"s": source_id},
    ).one_or_none()
    return None if row is None else dict(row._mapping)


COMPARED = ("kind", "item", "quantity", "from_holder", "to_holder", "at", "donor", "reverses")


def _holders_fit(entry: Entry, from_holder: str | None, to_holder: str | None) -> str | None:
    """For a reversal: the holder field that names neither orientation of the movement it
    reverses (a reversal's holders may be left out, written as the entry reversed had them,
    or swapped as the ledger keeps them)."""
    given = (entry.from_holder or None, entry.to_holder or None)
    for a, b in ((from_holder, to_holder), (to_holder, from_holder)):
        if all(g is None or g == want for g, want in zip(given, (a, b), strict=True)):
            return None
    return "from_holder" if given[0] not in (from_holder, to_holder) else "to_holder"


def _differs(entry: Entry, stored: dict[str, Any]) -> str | None:
    """The first field where `entry` says something else than the posted entry."""
    for name in COMPARED:
        given = getattr(entry, name)
        if entry.kind == "reversal" and name in ("from_holder", "to_holder"):
            field = _holders_fit(entry, stored["from_holder"], stored["to_holder"])
            if field is not None:
                return field
            continue
        if given is None and entry.kind == "reversal" and name in ("item", "quantity"):
            continue
        if (given or None) != (stored[name] or None):
            return name
    return None


def _shape(conn: Connection, entry: Entry) -> _Resolved:
    """The entry's item, quantity and holders, checked against its kind."""
    if entry.kind not in KINDS:
        raise _refuse(entry, "kind", f"{entry.kind!r}: one of {', '.join(KINDS)}")
    if entry.quantity is not None and entry.quantity <= 0:
        raise _refuse(entry, "quantity", f"{entry.quantity}: must be more than 0")
    if entry.kind == "reversal":
        return _reversal(conn, entry)
    if entry.reverses:
        raise _refuse(entry, "reverses", "only a reversal reverses an entry")
    if entry.item is None:
        raise _refuse(entry, "item", "required")
    if entry.quantity is None:
        raise _refuse(entry, "quantity", "required")
    if entry.donor and entry.kind != "receipt":
        raise _refuse(entry, "donor", "only a receipt has a donor")
    from_name, to_name = entry.from_holder or None, entry.to_holder or None
    need = {"receipt": (False, True), "transfer": (True, True), "use": (True, False)}
    for field, name, wanted in zip(
        ("from_holder", "to_holder"), (from_name, to_name), need[entry.kind], strict=True
    ):
        if wanted and name is None:
            raise _refuse(entry, field, f"required for a {entry.kind}")
        if not wanted and name is not None:
            raise _refuse(entry, field, f"a {entry.kind} has none")
    if from_name is not None and from_name == to_name:
        raise _refuse(entry, "to_holder", "the same holder as from_holder")
    record = f"ledger entry {entry.source_id!r}"
    code = item_id(conn, entry.item, record=record)
    from_id = (
        None
        if from_name is None
        else holder(conn, from_name, record=record, field="from_holder").id
    )
    to_id = None if to_name is None else holder(conn, to_name, record=record, field="to_holder").id
    return _Resolved(
        entry.kind, entry.item, code, entry.quantity, from_id, to_id, from_name, to_name, None
    )


def _reversal(conn: Connection, entry: Entry) -> _Resolved:
    if not entry.reverses:
        raise _refuse(entry, "reverses", "required for a reversal")
    if entry.donor:
        raise _refuse(entry, "donor", "only a receipt has a donor")
    row = conn.execute(
        text(
            "SELECT e.id, e.kind, e.item_id, i.code, e.quantity, e.from_holder_id,"
            " e.to_holder_id, f.source_id AS from_name, t.source_id AS to_name, e.at"
            " FROM ledger_entries AS e JOIN supply_items AS i ON i.id = e.item_id"
            " LEFT JOIN supply_holders AS f ON f.id = e.from_holder_id"
            " LEFT JOIN supply_holders AS t ON t.id = e.to_holder_id WHERE e.source_id = :s"
        ),
        {"s": entry.reverses},
    ).one_or_none()
    if row is None:
        raise _refuse(entry, "reverses", f"{entry.reverses!r}: no such entry")
    if row.kind == "reversal":
        raise _refuse(entry, "reverses", f"{entry.reverses!r}: a reversal is not reversed")
    taken = conn.execute(
        text("SELECT source_id FROM ledger_entries WHERE reverses_id = :i"), {"i": row.id}
    ).scalar_one_or_none()
    if taken is not None:
        raise EntryConflictError(
            entry.source_id, "reverses", f"{entry.reverses!r}: already reversed by {taken!r}"
        )
    if entry.at < row.at:
        raise _refuse(entry, "at", f"before the entry it reverses ({row.at.isoformat()})")
    derived = {"item": row.code, "quantity": row.quantity}
    misfit = _holders_fit(entry, row.to_name, row.from_name)
    if misfit is not None:
        raise _refuse(
            entry,
            misfit,
            f"{getattr(entry, misfit)!r}: the reversal of {entry.reverses!r} moves"
            f" {row.code} between {row.from_name or 'outside'} and {row.to_name or 'outside'}",
        )
    for field, value in derived.items():
        given = getattr(entry, field)
        if given not in (None, "") and given != value:
            raise _refuse(
                entry, field, f"{given!r}: the reversal of {entry.reverses!r} has {value!r}"
            )
    if not (entry.reason or "").strip():
        raise _refuse(entry, "reason", "required for a reversal")
    return _Resolved(
        "reversal", row.code, int(row.item_id), int(row.quantity), row.to_holder_id,
        row.from_holder_id, row.to_name, row.from_name, int(row.id),
    )  # fmt: skip


def day_sums(conn: Connection, holder_id: int, item: int, since: date) -> list[tuple[date, int]]:
    """A holder's net change of an item per town-time day from the month of `since` on, in
    day order, after one row (the day before that month) carrying the stock then: the
    earlier months come from their totals, so the pair's whole history is not read again."""
    month = since.replace(day=1)
    before = conn.execute(
        text(
            "SELECT coalesce(sum(net), 0) FROM supply_month_totals"
            " WHERE holder_id = :h AND item_id = :i AND month < :m"
        ),
        {"h": holder_id, "i": item, "m": month},
    ).scalar_one()
    rows = conn.execute(
        text(
            "SELECT day, sum(q) AS q FROM (SELECT day, quantity AS q FROM ledger_entries"
            " WHERE to_holder_id = :h AND item_id = :i AND day >= :m UNION ALL SELECT day,"
            " -quantity FROM ledger_entries WHERE from_holder_id = :h AND item_id = :i"
            " AND day >= :m) AS m GROUP BY day ORDER BY day"
        ),
        {"h": holder_id, "i": item, "m": month},
    )
    opening = [(month - timedelta(days=1), int(before))]
    return opening + [(r.day, int(r.q)) for r in rows]


def _first_negative_day(
    sums: list[tuple[date, int]], day: date, delta: int
) -> tuple[date, int] | None:
    """The first day on or after `day` whose closing stock is below zero once `delta` is
    taken on `day`, with that stock."""
    changes = dict(sums)
    changes[day] = changes.get(day, 0) + delta
    balance = 0
    for when in sorted(changes):
        balance += changes[when]
        if when >= day and balance < 0:
            return when, balance
    return None


def _check_stock(conn: Connection, entry: Entry, resolved: _Resolved, day: date) -> None:
    if resolved.from_id is None:
        return
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('supply_stock'), hashtext(:k))"),
        {"k": f"{resolved.from_id}/{resolved.item_id}"},
    )
    short = _first_negative_day(day_sums(conn, resolved.from_id, resolved.item_id, day), day,
                                -resolved.quantity)  # fmt: skip
    if short is not None:
        when, balance = short
        raise _refuse(
            entry,
            "quantity",
            f"{resolved.quantity} {resolved.item} would leave {resolved.from_holder} with"
            f" {balance} on {when.isoformat()}",
        )


def post(conn: Connection, entry: Entry, *, posted_by: str) -> tuple[str, str]:
    """Post one entry: ("inserted" | "unchanged", source_id); RecordRefused naming the entry,
    the field and the reason otherwise (nothing written)."""
    if entry.kind == "use" and not entry.from_holder and entry.to_holder:
        entry = replace(entry, from_holder=entry.to_holder, to_holder=None)
    stored = posted(conn, entry.source_id)
    if stored is not None:
        field = _differs(entry, stored)
        if field is not None:
            raise EntryConflictError(
                entry.source_id, field, "differs from the posted entry, which is never changed"
            )
        return "unchanged", entry.source_id
    if entry.at.tzinfo is None:
        raise _refuse(entry, "at", "needs an offset (ISO 8601, e.g. 2026-02-01T09:00+08:00)")
    resolved = _shape(conn, entry)
    day = entry.at.astimezone(town_timezone(conn)).date()
    _check_stock(conn, entry, resolved, day)
    inserted = conn.execute(
        text(
            "INSERT INTO ledger_entries (source_id, kind, item_id, quantity, from_holder_id,"
            " to_holder_id, at, day, donor, reverses_id, reason, posted_by) VALUES (:s, :k, :i,"
            " :q, :f, :t, :at, :day, :donor, :rev, :reason, :by)"
            " ON CONFLICT (source_id) DO NOTHING RETURNING id"
        ),
        {
            "s": entry.source_id,
            "k": resolved.kind,
            "i": resolved.item_id,
            "q": resolved.quantity,
            "f": resolved.from_id,
            "t": resolved.to_id,
            "at": entry.at,
            "day": day,
            "donor": entry.donor or None,
            "rev": resolved.reverses_id,
            "reason": (entry.reason or "").strip() or None,
            "by": posted_by,
        },
    ).scalar_one_or_none()
    if inserted is None:  # the same source id posted meanwhile by another transaction
        return post(conn, entry, posted_by=posted_by)
    return "inserted", entry.source_id
