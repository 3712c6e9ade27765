"""The town as of a moment, replayed one way for the maps, the exports and the coverage
report: the moment read from an ISO date or date-time, each household's last visit, each
checkpoint's and each entrance's state then."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, text

from geodata.errors import ConfigError
from geodata.town_time import TOWN_TIMEZONE


def parse_as_of(value: str) -> datetime:
    """`2026-11-20` (the end of that day) or `2026-11-20T09:00[+08:00]` as an aware datetime."""
    raw = value.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            end = datetime.combine(day + timedelta(days=1), time(), tzinfo=TOWN_TIMEZONE)
            return end - timedelta(microseconds=1)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"not an ISO date or date-time: {value!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=TOWN_TIMEZONE)


def last_visit_as_of(household: str, moment: str) -> str:
    """SQL for the latest visit of household row `household` at or before the SQL value
    `moment`: the household's own `last_visited_at` (kept by triggers on visits) when that is
    not after the moment, else read from `visits` (a question about the past)."""
    return (
        f"CASE WHEN {household}.last_visited_at IS NULL"  # noqa: S608 (alias and moment are SQL written by the caller, never values)
        f" OR {household}.last_visited_at <= {moment} THEN {household}.last_visited_at"
        f" ELSE (SELECT max(v.visited_at) FROM visits AS v"
        f" WHERE v.household_id = {household}.id AND v.visited_at <= {moment}) END"
    )


def checkpoint_state_as_of(checkpoint: str, moment: str) -> str:
    """SQL for a LATERAL subquery giving checkpoint row `checkpoint`'s state (`state`) at the
    SQL value `moment`, from its events: no row when it was made after that moment."""
    return (
        f"SELECT e.to_state AS state FROM checkpoint_events AS e"  # noqa: S608 (alias and moment are SQL written by the caller, never values)
        f" WHERE e.checkpoint_id = {checkpoint}.id AND e.kind = 'state' AND e.at <= {moment}"
        f" ORDER BY e.at DESC, e.id DESC LIMIT 1"
    )


def entrance_states(
    conn: Connection, moment: datetime, *, entrance_ids: list[int] | None = None
) -> tuple[list[int], list[str]]:
    """The entrances that existed at `moment` (of `entrance_ids`, default all) and the state
    each was in then, replayed from `entrance_events` by the coverage report's own function."""
    # Imported here: pandas only for a question about entrances.
    import pandas as pd

    from geodata.analysis.entrance_replay import entrance_states_as_of

    only = "" if entrance_ids is None else " WHERE id = ANY(:ids)"
    only_events = "" if entrance_ids is None else " WHERE entrance_id = ANY(:ids)"
    params = {} if entrance_ids is None else {"ids": entrance_ids}
    # Each column comes back as one array: building frames from rows cost more than the
    # replay itself on a map layer's request.
    ids, current, since_s = conn.execute(
        text(
            "SELECT array_agg(id), array_agg(state::text), array_agg(extract(epoch FROM since)"  # noqa: S608 (one of two constant conditions)
            "::float8) FROM entrances" + only
        ),
        params,
    ).one()
    if not ids:
        return [], []
    entrances = pd.DataFrame({"id": ids, "state": current, "since_s": since_s})
    events_at = conn.execute(
        text(
            "SELECT array_agg(entrance_id ORDER BY entrance_id, at, id),"  # noqa: S608 (one of two constant conditions)
            " array_agg(extract(epoch FROM at)::float8 ORDER BY entrance_id, at, id),"
            " array_agg(from_state::text ORDER BY entrance_id, at, id),"
            " array_agg(to_state::text ORDER BY entrance_id, at, id)"
            " FROM entrance_events" + only_events
        ),
        params,
    ).one()
    columns = ["entrance_id", "at_s", "from_state", "to_state"]
    events = pd.DataFrame(
        {name: (values or []) for name, values in zip(columns, events_at, strict=True)}
    )
    states = entrance_states_as_of(entrances, events, moment.timestamp())
    there = states.notna()
    return [int(i) for i in entrances["id"][there]], [str(s) for s in states[there]]
