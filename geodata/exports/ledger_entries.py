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


PLACES_SQL = """
SELECT p.source_id, p.name, p.kind, p.rounds_per_day, v.code AS village,
       c.source_id AS checkpoint, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat
FROM disinfection_places AS p LEFT JOIN villages AS v ON v.id = p.village_id
LEFT JOIN checkpoints AS c ON c.id = p.checkpoint_id ORDER BY p.id
"""
ROUNDS_SQL = """
SELECT r.source_id, p.source_id AS place, r.at, s.source_id AS by, r.agent
FROM disinfection_rounds AS r JOIN disinfection_places AS p ON p.id = r.place_id
LEFT JOIN staff AS s ON s.id = r.staff_id ORDER BY r.id
"""
TABLE_EXPORTS = {
    "disinfection-places": (PLACES_SQL, Action.VIEW_MAP),
    "disinfection-rounds": (ROUNDS_SQL, Action.VIEW_MAP),
}


def export_table(
    conn: Connection, principal: Principal, layer: str, output: Path, *, bom: bool = False
) -> int:
    """A disinfection layer as the CSV it is imported from; the rows written."""
    sql, action = TABLE_EXPORTS[layer]
    principal.require(action)
    partial = output.with_name(output.name + ".part")
    rows = 0
    with partial.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        writer = csv.writer(out)
        result = conn.execute(text(sql).execution_options(yield_per=10_000))
        writer.writerow(list(result.keys()))
        for row in result:
            writer.writerow(["" if v is None else v.isoformat() if hasattr(v, "isoformat")
                             else v for v in row])  # fmt: skip
            rows += 1
    partial.replace(output)
    audit.record(conn, actor=principal.name, action="export", object_type=layer.replace("-", "_"),
                 row_count=rows, detail={"layer": layer})  # fmt: skip
    return rows
