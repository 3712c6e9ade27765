"""The command post's figures for the coverage report: enterprises per resumption state,
publicity points not checked in 7 days, disinfection places overdue at the moment, holders
(units, checkpoints) below a stock threshold at the end of the day, and passes valid on the
day, within the principal's villages. Places, units and stock are given exactly to every role;
passes count people, so planners and analysts get them through the disclosure rules
(withheld under 5, else randomly rounded to a multiple of 5, the same for every asking)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from geodata.auth.access import Action, Principal
from geodata.disclosure.cellkey import CellKeys, load_secret, published
from geodata.disclosure.rules import controlled
from geodata.disclosure.snapshots import scope_key
from geodata.records import disinfection, enterprises, publicity, supplies_stock
from geodata.records.town_settings import town_timezone
from geodata.records.village_scope import count_in_villages
from geodata.services.disinfection import villages_of


def figures(
    conn: Connection, principal: Principal, *, at: datetime | None = None
) -> dict[str, Any]:
    """The figures at moment `at` (default now): its town-time day for reviews and passes."""
    principal.require(Action.VIEW_COVERAGE)
    moment = at or datetime.now(UTC)
    day = moment.astimezone(town_timezone(conn)).date()
    villages = villages_of(conn, principal)
    states = enterprises.counts(conn, villages, on=day)
    points = count_in_villages(
        conn, "FROM publicity_points AS p WHERE p.put_up_on <= :day", "p.village_id", villages,
        day=day,
    )  # fmt: skip
    passes: int | None = count_in_villages(
        conn,
        "FROM passes AS p JOIN enterprises AS e ON e.id = p.enterprise_id"
        " WHERE :day BETWEEN p.valid_from AND p.valid_until",
        "e.village_id",
        villages,
        day=day,
    )
    if controlled(principal):
        keys = CellKeys(load_secret(conn))
        cell = f"command_post:{scope_key(principal.grid_ids)}"
        passes = published(passes, keys.draw(cell, day, "passes_valid"))
    low = supplies_stock.low_stock(conn, day, villages=villages)
    places = count_in_villages(
        conn, "FROM disinfection_places AS p WHERE p.created_at <= :m", "p.village_id",
        villages, m=moment,
    )  # fmt: skip
    return {
        "day": day.isoformat(),
        "disinfection": {
            "places": int(places),
            "overdue": len(disinfection.overdue(conn, moment, villages)),
        },
        "supplies": {
            "below_threshold": len(low),
            "holders_below_threshold": len({row["holder"] for row in low}),
        },
        "enterprises": {**states, "total": sum(states.values())},
        "publicity_points": {
            "total": int(points),
            "not_checked_7_days": publicity.unchecked_count(conn, villages, at=moment),
        },
        "passes_valid": passes,
    }
