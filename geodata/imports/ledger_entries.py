"""The `ledger-entries` layer: a CSV of supplies ledger entries, posted all or nothing.

Fields: source_id, kind, item, quantity, from_holder, to_holder, at, donor, reverses (and an
optional reason, for reversals). Rows are posted in the order of `at` (a reversal after what
it reverses), so a file is judged by its dates, not its line order: the whole file is
refused when any row is, every failing row named by line, field and reason. An entry already
posted with the same content counts as unchanged; with other content it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from geodata.auth import audit
from geodata.identifiers import identifier_problem
from geodata.imports.csv_records import read_rows
from geodata.imports.report import ImportReport, Issue
from geodata.records.refusal import RecordRefused
from geodata.records.supplies_ledger import KINDS, Entry, EntryRefused, post

LAYER = "ledger-entries"
FIELDS = ("source_id", "kind", "item", "quantity", "from_holder", "to_holder", "at", "donor",
          "reverses", "reason")  # fmt: skip
REQUIRED = ("source_id", "kind", "at")
FIELD_HELP = {
    "source_id": "text, required: the entry's key; never reused for other content",
    "kind": f"one of {', '.join(KINDS)}, required",
    "item": "an item code (thermometer, disinfectant, brochure, mask, registration_form or"
    " one added with `wangge supplies items add`); a reversal may leave it empty",
    "quantity": "a whole number > 0 of the item's unit; a reversal may leave it empty",
    "from_holder": "the holder it leaves (transfer, use): town-store or the source id of a team,"
    " checkpoint or isolation site",
    "to_holder": "the holder it reaches (receipt, transfer)",
    "at": "ISO 8601 with an offset (2026-02-01T09:00:00+08:00), required",
    "donor": "a receipt's donor (empty: a purchase)",
    "reverses": "a reversal's entry (its source id)",
    "reason": "optional: why a reversal is made (default: imported)",
}


@dataclass(frozen=True)
class _Row:
    line: int
    entry: Entry


def _whole(value: str) -> int | None:
    """A whole number written as such or as a number with no fraction (`12`, `12.0`)."""
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else None


def _entry(line: int, raw: dict[str, str], errors: list[Issue]) -> Entry | None:
    before = len(errors)

    def bad(field: str, reason: str) -> None:
        errors.append(Issue(reason=reason, line=line, field=field))

    source_id = raw.get("source_id", "")
    problem = identifier_problem(source_id)
    if problem is not None:
        bad("source_id", f"source id {problem}")
    for name in REQUIRED[1:]:
        if not raw.get(name):
            bad(name, "required")
    quantity = _whole(raw.get("quantity", ""))
    if raw.get("quantity") and quantity is None:
        bad("quantity", f"{raw['quantity'][:40]!r}: not a whole number")
    at = None
    if raw.get("at"):
        try:
            at = datetime.fromisoformat(raw["at"])
        except ValueError:
            bad("at", f"{raw['at'][:40]!r}: not an ISO 8601 date-time")
        if at is not None and at.tzinfo is None:
            bad("at", "needs an offset (e.g. +08:00)")
    if len(errors) > before or at is None:
        return None
    kind = raw["kind"].lower()
    reason = raw.get("reason") or ("imported" if kind == "reversal" else None)
    return Entry(
        source_id=source_id, kind=kind, at=at, item=raw.get("item") or None, quantity=quantity,
        from_holder=raw.get("from_holder") or None, to_holder=raw.get("to_holder") or None,
        donor=raw.get("donor") or None, reverses=raw.get("reverses") or None, reason=reason,
    )  # fmt: skip


def _issue(line: int, source_id: str, exc: RecordRefused) -> Issue:
    if isinstance(exc, EntryRefused):
        return Issue(reason=f"{source_id}: {exc.reason}", line=line, field=exc.field)
    message = str(exc).removeprefix(f"ledger entry {source_id!r}: ")
    field, _, reason = message.partition(": ")
    return Issue(reason=f"{source_id}: {reason}", line=line, field=field)


def import_ledger(
    conn: Connection,
    path: Path,
    *,
    actor: str,
    encoding: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Post every entry of the file in a savepoint, or none; the report names each failure."""
    report = ImportReport(layer=LAYER, file=path.name, dry_run=dry_run)
    raw_rows = read_rows(path, encoding=encoding, required=REQUIRED)
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for line, raw in raw_rows:
        entry = _entry(line, raw, report.errors)
        if entry is None:
            continue
        if entry.source_id in seen:
            again = f"{entry.source_id}: also on line {seen[entry.source_id]}"
            report.errors.append(Issue(reason=again, line=line, field="source_id"))
            continue
        seen[entry.source_id] = line
        rows.append(_Row(line, entry))
    if report.errors:
        return report
    rows.sort(key=lambda r: (r.entry.at, r.entry.kind == "reversal", r.line))
    inserted: list[str] = []
    savepoint = conn.begin_nested()
    try:
        for row in rows:
            try:
                with conn.begin_nested():
                    outcome, _ = post(conn, row.entry, posted_by=actor)
            except RecordRefused as exc:
                report.errors.append(_issue(row.line, row.entry.source_id, exc))
                continue
            if outcome == "inserted":
                inserted.append(row.entry.source_id)
            else:
                report.unchanged += 1
        report.errors.sort(key=lambda i: i.line or 0)
        report.inserted = 0 if report.errors else len(inserted)
        if report.errors or dry_run:
            savepoint.rollback()
            return report
        audit.record(
            conn, actor=actor, action="import", object_type="ledger_entry",
            row_count=len(inserted),
            detail={"layer": LAYER, "file": path.name, "inserted": len(inserted),
                    "unchanged": report.unchanged},
        )  # fmt: skip
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    return report
