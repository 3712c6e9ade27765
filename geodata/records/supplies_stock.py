"""Supplies: stock per holder and item as of a town-time day (the plain sum of the ledger's
entries up to that day), the holders below their low-stock level, and the donations report."""

from __future__ import annotations

from collections import deque
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geodata.records.refusal import RecordRefused
from geodata.records.supplies_refs import holder, item_id
from geodata.records.village_scope import IN_VILLAGES

STOCK_SQL = """
SELECT h.source_id AS holder, i.code AS item, s.quantity FROM (
    SELECT holder_id, item_id, sum(q)::bigint AS quantity FROM (
        SELECT holder_id, item_id, net AS q FROM supply_month_totals
        WHERE month < :month {months}
        UNION ALL
        SELECT to_holder_id AS holder_id, item_id, quantity AS q FROM ledger_entries
        WHERE to_holder_id IS NOT NULL AND day >= :month AND day <= :day {into}
        UNION ALL
        SELECT from_holder_id, item_id, -quantity FROM ledger_entries
        WHERE from_holder_id IS NOT NULL AND day >= :month AND day <= :day {out_of}
    ) AS m GROUP BY holder_id, item_id
) AS s JOIN supply_holders AS h ON h.id = s.holder_id JOIN supply_items AS i ON i.id = s.item_id
ORDER BY h.source_id, i.code
"""
"""The months before the day's month from their totals, then that month's entries up to the
day (an index on `day`); one holder reads its own range of each (the holder indexes)."""

VERIFY_SQL = """
SELECT coalesce(t.holder_id, e.holder_id) AS holder_id, coalesce(t.item_id, e.item_id) AS item_id,
       coalesce(t.month, e.month) AS month, t.net AS total, e.net AS entries
FROM supply_month_totals AS t FULL JOIN (
    SELECT holder_id, item_id, month, sum(q) AS net FROM (
        SELECT to_holder_id AS holder_id, item_id, date_trunc('month', day)::date AS month,
               quantity AS q FROM ledger_entries WHERE to_holder_id IS NOT NULL
        UNION ALL
        SELECT from_holder_id, item_id, date_trunc('month', day)::date, -quantity
        FROM ledger_entries WHERE from_holder_id IS NOT NULL
    ) AS m GROUP BY holder_id, item_id, month
) AS e ON (e.holder_id, e.item_id, e.month) = (t.holder_id, t.item_id, t.month)
WHERE t.net IS DISTINCT FROM e.net
ORDER BY 1, 2, 3
"""


def verify_totals(conn: Connection) -> list[dict[str, Any]]:
    """Every month total that is not the sum of its entries (none when the totals hold)."""
    rows = conn.execute(text(VERIFY_SQL)).mappings()
    return [
        {
            **r,
            "month": r["month"].isoformat(),
            "total": None if r["total"] is None else int(r["total"]),
            "entries": None if r["entries"] is None else int(r["entries"]),
        }
        for r in rows
    ]


def stock(
    conn: Connection, day: date, *, holder_source_id: str | None = None
) -> list[dict[str, Any]]:
    """Every (holder, item) with an entry up to `day`, and its stock at the end of that day."""
    month = day.replace(day=1)
    if holder_source_id is None:
        sql = STOCK_SQL.format(months="", into="", out_of="")
        bind: dict[str, Any] = {"day": day, "month": month}
    else:
        found = holder(conn, holder_source_id, record="stock", field="holder")
        sql = STOCK_SQL.format(months="AND holder_id = :h", into="AND to_holder_id = :h",
                               out_of="AND from_holder_id = :h")  # fmt: skip
        bind = {"day": day, "month": month, "h": found.id}
    return [dict(r) for r in conn.execute(text(sql), bind).mappings()]


def set_threshold(conn: Connection, holder_source_id: str, item: str, minimum: int) -> None:
    """The low-stock level of a holder and item (0 removes the flag)."""
    record = f"threshold {holder_source_id}/{item}"
    if minimum < 0:
        raise RecordRefused(f"{record}: minimum: {minimum}: must be 0 or more")
    found = holder(conn, holder_source_id, record=record, field="holder")
    code = item_id(conn, item, record=record)
    conn.execute(
        text(
            "INSERT INTO supply_thresholds (holder_id, item_id, minimum) VALUES (:h, :i, :m)"
            " ON CONFLICT (holder_id, item_id) DO UPDATE SET minimum = excluded.minimum"
        ),
        {"h": found.id, "i": code, "m": minimum},
    )


HOLDER_VILLAGE = (
    "coalesce((SELECT village_id FROM teams WHERE h.kind = 'team' AND id = h.ref_id),"
    " (SELECT village_id FROM checkpoints WHERE h.kind = 'checkpoint' AND id = h.ref_id))"
)
"""SQL: the village of the holder aliased `h` (NULL: the town store, an isolation site)."""


def low_stock(
    conn: Connection, day: date, *, villages: list[int] | None = None
) -> list[dict[str, Any]]:
    """The (holder, item) pairs whose stock at the end of `day` is below their level; with
    `villages`, only holders of those villages (teams and checkpoints)."""
    rows = conn.execute(
        text(
            "SELECT h.source_id AS holder, h.kind AS holder_kind, i.code AS item, i.unit,"  # noqa: S608 (a constant of this module; values are bound)
            " t.minimum, coalesce((SELECT sum(quantity) FROM ledger_entries"
            " WHERE to_holder_id = t.holder_id AND item_id = t.item_id AND day <= :day), 0)"
            " - coalesce((SELECT sum(quantity) FROM ledger_entries"
            " WHERE from_holder_id = t.holder_id AND item_id = t.item_id AND day <= :day), 0)"
            " AS quantity FROM supply_thresholds AS t"
            " JOIN supply_holders AS h ON h.id = t.holder_id"
            " JOIN supply_items AS i ON i.id = t.item_id"
            f" WHERE {IN_VILLAGES.format(village=HOLDER_VILLAGE)}"
            " ORDER BY h.source_id, i.code"
        ),
        {"day": day, "villages": villages},
    ).mappings()
    return [
        {**r, "quantity": int(r["quantity"])} for r in rows if int(r["quantity"]) < r["minimum"]
    ]


def _movements(conn: Connection, holder_id: int, item: int) -> list[Any]:
    return list(
        conn.execute(
            text(
                "SELECT e.id, e.source_id, e.kind, e.at, e.quantity, e.to_holder_id = :h AS inflow,"
                " e.donor, other.source_id AS other FROM ledger_entries AS e"
                " LEFT JOIN supply_holders AS other ON other.id = CASE WHEN e.to_holder_id = :h"
                " THEN e.from_holder_id ELSE e.to_holder_id END"
                " WHERE (e.to_holder_id = :h OR e.from_holder_id = :h) AND e.item_id = :i"
                " ORDER BY e.at, e.id"
            ),
            {"h": holder_id, "i": item},
        )
    )


def _where_it_went(conn: Connection, holder_id: int, item: int) -> dict[int, list[dict[str, Any]]]:
    """For each inflow of a holder's item, where its units went, first in first out."""
    lots: deque[list[int]] = deque()  # [entry id, units left]
    went: dict[int, list[dict[str, Any]]] = {}
    for m in _movements(conn, holder_id, item):
        if m.inflow:
            lots.append([int(m.id), int(m.quantity)])
            went[int(m.id)] = []
            continue
        need = int(m.quantity)
        while need > 0 and lots:
            lot = lots[0]
            take = min(need, lot[1])
            went[lot[0]].append(
                {
                    "kind": m.kind,
                    "entry": m.source_id,
                    "to": m.other,
                    "quantity": take,
                    "at": m.at.isoformat(),
                }
            )
            lot[1] -= take
            need -= take
            if lot[1] == 0:
                lots.popleft()
    return went


def donations(conn: Connection, start: date | None, end: date | None) -> list[dict[str, Any]]:
    """Every donation received in [start, end] (town-time days): donor, item, quantity, date,
    the holder it went into, and where its units went from there (first in, first out: a
    transfer names the holder, a use none; what is left stays with the holder)."""
    rows = conn.execute(
        text(
            "SELECT e.id, e.source_id, e.donor, i.code AS item, e.item_id, e.quantity, e.at, e.day,"
            " h.source_id AS holder, e.to_holder_id FROM ledger_entries AS e"
            " JOIN supply_items AS i ON i.id = e.item_id"
            " JOIN supply_holders AS h ON h.id = e.to_holder_id"
            " WHERE e.kind = 'receipt' AND e.donor IS NOT NULL"
            " AND (CAST(:start AS date) IS NULL OR e.day >= :start)"
            " AND (CAST(:end AS date) IS NULL OR e.day <= :end) ORDER BY e.at, e.id"
        ),
        {"start": start, "end": end},
    ).all()
    flows: dict[tuple[int, int], dict[int, list[dict[str, Any]]]] = {}
    report = []
    for r in rows:
        key = (int(r.to_holder_id), int(r.item_id))
        if key not in flows:
            flows[key] = _where_it_went(conn, *key)
        went = flows[key].get(int(r.id), [])
        report.append(
            {
                "entry": r.source_id,
                "donor": r.donor,
                "item": r.item,
                "quantity": int(r.quantity),
                "date": r.day.isoformat(),
                "at": r.at.isoformat(),
                "received_by": r.holder,
                "went": went,
                "left_with_holder": int(r.quantity) - sum(w["quantity"] for w in went),
            }
        )
    return report
