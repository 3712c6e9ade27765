"""The supplies ledger out as the `ledger-entries` CSV it is imported from: every entry, in
the order posted, with the fields of the import (a re-import of the file changes nothing)."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal

FIELDS = ("source_id", "kind", "item", "quantity", "from_holder", "to_holder", "at", "donor",
          "reverses", "reason")  # fmt: skip
SQL = """
SELECT e.source_id, e.kind, i.code AS item, e.quantity, f.source_id AS from_holder,
       t.source_id AS to_holder, e.at, e.donor, r.source_id AS reverses, e.reason
FROM ledger_entries AS e JOIN supply_items AS i ON i.id = e.item_id
LEFT JOIN supply_holders AS f ON f.id = e.from_holder_id
LEFT JOIN supply_holders AS t ON t.id = e.to_holder_id
LEFT JOIN ledger_entries AS r ON r.id = e.reverses_id
ORDER BY e.id
"""


def export_ledger(
    conn: Connection, principal: Principal, output: Path, *, bom: bool = False
) -> int:
    """Write the ledger to `output` (written beside it, then renamed); the rows written."""
    principal.require(Action.OPERATE)
    partial = output.with_name(output.name + ".part")
    rows = 0
    with partial.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        result = conn.execute(text(SQL).execution_options(yield_per=10_000))
        for row in result:
            values = row._mapping
            writer.writerow(
                ["" if values[name] is None else values[name] for name in FIELDS[:6]]
                + [values["at"].isoformat()]
                + ["" if values[name] is None else values[name] for name in FIELDS[7:]]
            )
            rows += 1
    partial.replace(output)
    audit.record(
        conn, actor=principal.name, action="export", object_type="ledger_entry", row_count=rows,
        detail={"layer": "ledger-entries"},
    )  # fmt: skip
    return rows
