"""The inputs of the rules about people on duty (`geodata.analysis.duty_rules`) read at a
moment, and the rules run on them: the `wangge check` keys about leaders, village
entrances, staffing, overlapping shifts, hours, teams and patrol zones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geodata.analysis import duty_rules as rules
from geodata.records.as_of import checkpoint_state_as_of, entrance_states
from geodata.records.patrol_shifts import PATROL_CHECKS, patrol_checks
from geodata.records.town_settings import setting, town_timezone

PEOPLE_WINDOW_S = rules.DAY_S
"""The rules about a person read the shifts that overlap this long before and after the
moment (and the next 24 hours' staffing)."""

DUTY_CHECKS = (
    "grid_without_leader",
    "village_open_entrances",
    "checkpoint_understaffed",
    "shift_overlap",
    "hours_over_limit",
    "team_without_members",
    *PATROL_CHECKS,
)


def _frame(conn: Connection, sql: str, params: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """The rows as a frame, built column by column: pandas handed a county's 36,000 result
    rows as they are spends 0.2 s asking each for attributes (the query itself: 0.08 s)."""
    rows = conn.execute(text(sql), params).all()
    if not rows:
        return pd.DataFrame([], columns=columns)
    return pd.DataFrame(dict(zip(columns, zip(*rows, strict=True), strict=True)))


def checkpoint_frame(conn: Connection, moment: datetime) -> pd.DataFrame:
    """Every checkpoint there at the moment: id, source_id, staff_per_shift, entrance_id,
    state (replayed from its events, as the map and the coverage report do)."""
    sql = (
        "SELECT c.id, c.source_id, c.staff_per_shift, c.entrance_id, s.state"  # noqa: S608 (SQL from as_of, no values)
        " FROM checkpoints AS c CROSS JOIN LATERAL ("
        + checkpoint_state_as_of("c", ":moment")
        + ") AS s"
    )
    return _frame(
        conn,
        sql,
        {"moment": moment},
        ["id", "source_id", "staff_per_shift", "entrance_id", "state"],
    )


def shift_frame(conn: Connection, start: datetime, end: datetime) -> pd.DataFrame:
    """Who is on duty during [start, end), as intervals of checkpoint_id, starts_s, ends_s,
    staff_count: each person on a shift for their own hours there (put on late or taken off
    early by the command post), and a shift without people by its head count."""
    return _frame(
        conn,
        "SELECT s.checkpoint_id, extract(epoch FROM a.starts_at)::float8,"
        " extract(epoch FROM a.ends_at)::float8, 1 FROM shift_staff AS a"
        " JOIN checkpoint_shifts AS s ON s.id = a.shift_id"
        " WHERE a.ends_at > :start AND a.starts_at < :end AND s.checkpoint_id IS NOT NULL"
        " UNION ALL SELECT s.checkpoint_id, extract(epoch FROM s.starts_at)::float8,"
        " extract(epoch FROM s.ends_at)::float8, s.staff_count FROM checkpoint_shifts AS s"
        " WHERE s.ends_at > :start AND s.starts_at < :end AND s.staff_count > 0"
        " AND s.checkpoint_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM shift_staff AS a WHERE a.shift_id = s.id)",
        {"start": start, "end": end},
        ["checkpoint_id", "starts_s", "ends_s", "staff_count"],
    )


def assignment_frame(conn: Connection, start: datetime, end: datetime) -> pd.DataFrame:
    """People on shifts overlapping [start, end): staff (source id), shift_id, starts_s,
    ends_s. Each column comes back as one array (a county's 36,000 rows: 0.05 s, where
    rows took 0.1 s more)."""
    columns = ["staff", "shift_id", "starts_s", "ends_s"]
    values = conn.execute(
        text(
            "SELECT array_agg(p.source_id), array_agg(a.shift_id),"
            " array_agg(extract(epoch FROM a.starts_at)::float8),"
            " array_agg(extract(epoch FROM a.ends_at)::float8) FROM shift_staff AS a"
            " JOIN staff AS p ON p.id = a.staff_id"
            " WHERE a.ends_at > :start AND a.starts_at < :end"
        ),
        {"start": start, "end": end},
    ).one()
    if values[0] is None:
        return pd.DataFrame([], columns=columns)
    return pd.DataFrame(dict(zip(columns, values, strict=True)))


def _grids(conn: Connection, moment: datetime) -> pd.DataFrame:
    return _frame(
        conn,
        "SELECT g.code, g.leader_id, extract(epoch FROM s.retired_at)::float8"
        " FROM grids AS g LEFT JOIN staff AS s ON s.id = g.leader_id",
        {},
        ["code", "leader_id", "leader_retired_s"],
    )


def _village_entrances(conn: Connection, moment: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    villages = _frame(conn, "SELECT id, code FROM villages", {}, ["id", "code"])
    entrances = _frame(
        conn,
        "SELECT id, source_id, village_id FROM entrances WHERE village_id IS NOT NULL",
        {},
        ["id", "source_id", "village_id"],
    )
    ids, states = entrance_states(conn, moment, entrance_ids=[int(i) for i in entrances["id"]])
    state_of = dict(zip(ids, states, strict=True))
    entrances["state"] = [state_of.get(int(i)) for i in entrances["id"]]
    return villages, entrances


def _teams(conn: Connection, moment: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    serving = "(retired_at IS NULL OR retired_at > :moment)"
    teams = _frame(
        conn,
        f"SELECT id, source_id, kind, parent_id FROM teams WHERE {serving}",  # noqa: S608 (a constant)
        {"moment": moment},
        ["id", "source_id", "kind", "parent_id"],
    )
    # One row a serving person (a county's 21,000): one array.
    team_ids = conn.execute(
        text(f"SELECT array_agg(team_id) FROM staff WHERE team_id IS NOT NULL AND {serving}"),  # noqa: S608 (a constant)
        {"moment": moment},
    ).scalar_one()
    members = pd.DataFrame({"team_id": pd.Series(team_ids or [], dtype=np.int64)})
    return teams, members


def duty_checks(conn: Connection, moment: datetime, *, limit: int) -> dict[str, dict[str, Any]]:
    """Each rule's `{count, items}` at the moment (the first `limit` items); every item's
    `hour` is an ISO date-time in the town's time zone."""
    zone = town_timezone(conn)
    at_s = moment.timestamp()
    start = datetime.fromtimestamp(rules.hour_start(at_s), zone)
    checkpoints = checkpoint_frame(conn, moment)
    window_start = datetime.fromtimestamp(at_s - PEOPLE_WINDOW_S, zone)
    window_end = datetime.fromtimestamp(at_s + PEOPLE_WINDOW_S, zone)
    assignments = assignment_frame(conn, window_start, window_end)
    villages, entrances = _village_entrances(conn, moment)
    teams, members = _teams(conn, moment)
    limit_hours = float(setting(conn, "hours_limit_per_person"))
    produce: dict[str, Callable[[], list[rules.Item]]] = {
        "grid_without_leader": lambda: rules.grids_without_leader(_grids(conn, moment), at_s),
        "village_open_entrances": lambda: rules.villages_open_entrances(
            villages, entrances, checkpoints, at_s
        ),
        "checkpoint_understaffed": lambda: rules.checkpoints_understaffed(
            checkpoints,
            shift_frame(conn, start, datetime.fromtimestamp(at_s + rules.DAY_S + 3600, zone)),
            at_s,
        ),
        "shift_overlap": lambda: rules.shift_overlaps(assignments),
        "hours_over_limit": lambda: rules.hours_over_limit(assignments, limit_hours),
        "team_without_members": lambda: rules.teams_without_members(teams, members, at_s),
    }
    patrols = patrol_checks(conn, moment)
    produce.update({name: partial(list, patrols[name]) for name in PATROL_CHECKS})
    out: dict[str, dict[str, Any]] = {}
    for name in DUTY_CHECKS:
        items = produce[name]()
        shown = [
            {**it, "hour": datetime.fromtimestamp(it["hour"], zone).isoformat()}
            for it in items[:limit]
        ]
        out[name] = {"count": len(items), "items": shown}
    return out
