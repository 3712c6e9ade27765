"""The 18:00 summary through a principal: commanders and admins read it (a commander of
villages sees their villages and their sum); planners and analysts read its counts through
the disclosure rules (withheld under 5 with their complements, the rest rounded to 5),
without the map snapshot, whose colours come from exact shares. Every read is audited."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.disclosure.report import village_grids
from geodata.disclosure.rules import controlled
from geodata.disclosure.snapshots import publish, scope_key
from geodata.disclosure.tables import CountTable, Unit
from geodata.records import daily_summary as records

COUNTS = records.VILLAGE_FIGURES


def _in_scope(conn: Connection, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    mine = set(village_grids(conn, principal.grid_ids))
    villages = [v for v in body["villages"] if v["village"] in mine]
    return {
        **body,
        "villages": villages,
        "town": records._town(villages),
        "not_reported": [
            u for u in body["not_reported"] if u["kind"] != "village" or u["unit"] in mine
        ],
    }


def _published(conn: Connection, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    day = date.fromisoformat(body["date"])
    grids = village_grids(conn, principal.grid_ids)
    every = tuple(sorted(g for gs in grids.values() for g in gs))
    rows = {v["village"]: v for v in body["villages"]}

    def count() -> CountTable:
        units = [
            Unit(
                key=code,
                counts=tuple(int(rows[code][f]) for f in COUNTS),
                group="town",
                grids=grids.get(code, ()),
            )
            for code in sorted(rows)
        ]
        units.append(Unit(key="town", counts=tuple(int(body["town"][f]) for f in COUNTS),
                          grids=every))  # fmt: skip
        return CountTable(level="village", figures=COUNTS, units=tuple(units))

    _, table = publish(conn, name="daily_summary", figures=COUNTS,
                       scope=scope_key(principal.grid_ids), day=day, count=count)  # fmt: skip
    villages = [
        {"village": code, "name": rows[code]["name"], **dict(zip(COUNTS, table[code], strict=True))}
        for code in sorted(rows)
        if code in table
    ]
    town = dict(zip(COUNTS, table["town"], strict=True))
    return {
        **{k: body[k] for k in ("date", "frozen", "issued_at", "reporting", "not_reported")},
        "disclosure": "published",
        "town": town,
        "villages": villages,
        "amendments": [
            {k: a[k] for k in ("unit", "kind", "at")} for a in body.get("amendments", [])
        ],
    }


def summary(
    conn: Connection, principal: Principal, day: date, *, now: datetime | None = None
) -> dict[str, Any]:
    """The day's summary as the principal may read it (see the module)."""
    principal.require(Action.VIEW_COVERAGE)
    apply_scope(conn, principal)
    body = records.summary(conn, day, now or datetime.now(UTC))
    if controlled(principal):
        shown = _published(conn, principal, body)
    else:
        shown = body if principal.grid_ids is None else _in_scope(conn, principal, body)
        shown = {**shown, "disclosure": "exact"}
    audit.record(conn, actor=principal.name, action="daily_summary", object_type="daily",
                 object_ids=[], row_count=len(shown["villages"]),
                 detail={"date": day.isoformat(), "frozen": body["frozen"]})  # fmt: skip
    return shown
