"""Each expected unit's daily figures, computed from the records (counts, never people):
households seen, people counted, returnees, in quarantine, fever, missed checks, checkpoints
staffed, entrances sealed (see `geodata.records.daily_reports` for what each counts). A
unit's day counts its visits by arrival: a report keeps the largest visit id it took in, and
the visits of that day arriving later count in the next day's figures."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from geodata.records import quarantines
from geodata.records.daily_units import PLACE_REACH_DEG, Unit, day_bounds, expected_units

VISIT_FIGURES_SQL = text(
    """
    WITH u AS (
        SELECT * FROM unnest(CAST(:k AS int[]), CAST(:g AS bigint[]), CAST(:upto AS bigint[]),
                             CAST(:prev AS bigint[])) AS u(k, grid_id, upto, prev)
    ), per_household AS (
        SELECT u.k, v.household_id, coalesce(max(v.people_seen), 0) AS people
        FROM u JOIN households h ON h.grid_id = u.grid_id
        JOIN visits v ON v.household_id = h.id AND v.result IN ('seen_all', 'partial')
          AND v.visited_at <= :now
          AND ((v.visited_at >= :start AND v.visited_at < :end AND v.id <= u.upto)
            OR (u.prev IS NOT NULL AND v.visited_at >= :before AND v.visited_at < :start
                AND v.id > u.prev))
        GROUP BY u.k, v.household_id
    )
    SELECT k, count(*)::int AS households_seen, sum(people)::int AS people_counted
    FROM per_household GROUP BY k
    """
)
"""Per unit (its index `k`, one row per grid of it): the households seen and people counted
over the day's visits taken in (id at most `upto`) and the previous day's visits that arrived
after that day's report (id above `prev`)."""

GRID_FIGURES_SQL = text(
    """
    WITH gs AS (SELECT unnest(CAST(:grids AS bigint[])) AS id),
    ret AS (
        SELECT coalesce(r.grid_id, h.grid_id) AS grid_id, count(*) AS n
        FROM residents r LEFT JOIN households h ON h.id = r.household_id
        WHERE r.returnee AND r.returned_on = :day GROUP BY 1
    ), inq AS (
        SELECT q.grid_id, count(*) AS n FROM quarantines q
        WHERE q.starts_at < :until AND coalesce(q.released_at, q.ends_at) > :start GROUP BY 1
    ), fev AS (
        SELECT q.grid_id, count(DISTINCT c.quarantine_id) AS n
        FROM quarantine_checks c JOIN quarantines q ON q.id = c.quarantine_id
        WHERE c.checked_at >= :start AND c.checked_at < :until AND c.temperature_c >= 37.3
        GROUP BY 1
    )
    SELECT gs.id, coalesce(ret.n, 0)::int AS returnees, coalesce(inq.n, 0)::int AS in_quarantine,
           coalesce(fev.n, 0)::int AS fever
    FROM gs LEFT JOIN ret ON ret.grid_id = gs.id LEFT JOIN inq ON inq.grid_id = gs.id
    LEFT JOIN fev ON fev.grid_id = gs.id
    """
)
"""Per grid: returnees arrived on the day, quarantines active during it, people with a fever
check in it; each table read once, grouped by grid."""

PLACES_SQL = text(
    f"""
    WITH entrance_place AS (
        SELECT e.id, 'entrance' AS kind, e.name, e.geom, e.village_id AS own_village,
               c.village_id AS compound_village,
               (SELECT min(b.grid_id) FROM buildings b WHERE b.compound_id = e.compound_id)
                 AS compound_grid
        FROM entrances e LEFT JOIN compounds c ON c.id = e.compound_id
    ), checkpoint_place AS (
        SELECT p.id, 'checkpoint' AS kind, p.name, p.geom,
               coalesce(p.village_id, ep.own_village) AS own_village,
               ep.compound_village, ep.compound_grid
        FROM checkpoints p LEFT JOIN entrance_place ep ON ep.id = p.entrance_id
    ), place AS (
        SELECT * FROM entrance_place UNION ALL SELECT * FROM checkpoint_place
    )
    SELECT p.id, p.kind, p.name, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat,
           coalesce(p.compound_grid, near.id) AS grid_id,
           coalesce(p.own_village, p.compound_village, gv.village_id, near.village_id)
             AS village_id
    FROM place p
    LEFT JOIN grids gv ON gv.id = p.compound_grid
    LEFT JOIN LATERAL (
        SELECT g.id, g.village_id FROM grids g
        WHERE ST_DWithin(g.geom, p.geom, {PLACE_REACH_DEG})
        ORDER BY ST_Distance(g.geom, p.geom), g.id LIMIT 1
    ) near ON p.compound_grid IS NULL
    ORDER BY p.kind, p.id
    """  # noqa: S608 (a constant of this module)
)
"""Every entrance and checkpoint with its grid and village (see the module's docstring)."""


def places(conn: Connection) -> list[Any]:
    """Every entrance and checkpoint: `id, kind, name, lon, lat, grid_id, village_id`."""
    return list(conn.execute(PLACES_SQL).all())


def _staffed(conn: Connection, start: datetime, until: datetime) -> set[int]:
    return set(
        conn.execute(
            text(
                "SELECT DISTINCT checkpoint_id FROM checkpoint_shifts WHERE staff_count > 0"
                " AND starts_at < :until AND ends_at > :start"
            ),
            {"start": start, "until": until},
        ).scalars()
    )


def _sealed(conn: Connection, moment: datetime) -> set[int]:
    from geodata.records.as_of import entrance_states

    ids, states = entrance_states(conn, moment)
    return {int(i) for i, s in zip(ids, states, strict=True) if s == "sealed"}


def last_visit_id(conn: Connection) -> int:
    """The largest visit id now: what a report confirmed now takes in."""
    return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM visits")).scalar_one())


def stored_reports(conn: Connection, day: date) -> dict[tuple[str, str], Any]:
    rows = conn.execute(text("SELECT * FROM daily_reports WHERE day = :d"), {"d": day}).all()
    return {(str(r.unit_kind), str(r.unit_key)): r for r in rows}


def unit_figures(
    conn: Connection,
    day: date,
    now: datetime,
    units: Iterable[Unit],
    *,
    upto: dict[tuple[str, str], int] | None = None,
) -> dict[tuple[str, str], dict[str, int]]:
    """The figures of `units` on `day` as of `now` (clamped to the day's end), keyed by
    (kind, key). The day's visits count up to `upto[(kind, key)]` (default: every visit
    now); the previous day's visits that arrived after that day's report of the unit are
    carried in."""
    units = list(units)
    start, end = day_bounds(conn, day)
    until = min(now, end)
    everything = last_visit_id(conn)
    before = stored_reports(conn, day - timedelta(days=1))
    upto = upto or {}
    ks: list[int] = []
    gs: list[int] = []
    ups: list[int] = []
    prevs: list[int | None] = []
    for k, u in enumerate(units):
        prev = before.get((u.kind, u.key))
        for g in u.grid_ids:
            ks.append(k)
            gs.append(g)
            ups.append(upto.get((u.kind, u.key), everything))
            prevs.append(None if prev is None else int(prev.visits_through))
    visits = {
        int(r.k): r
        for r in conn.execute(
            VISIT_FIGURES_SQL,
            {"k": ks, "g": gs, "upto": ups, "prev": prevs, "now": until, "start": start,
             "end": end, "before": start - (end - start)},
        ).all()
    }  # fmt: skip
    grid_ids = sorted({g for u in units for g in u.grid_ids})
    per_grid = {
        int(r.id): r
        for r in conn.execute(
            GRID_FIGURES_SQL, {"grids": grid_ids, "day": day, "start": start, "until": until}
        ).all()
    }
    codes: dict[int, str] = dict(
        conn.execute(
            text("SELECT id, code FROM grids WHERE id = ANY(CAST(:g AS bigint[]))"),
            {"g": grid_ids},
        ).all()
    )
    missed = quarantines.checks_per_grid(conn, day, until)
    all_places = places(conn)
    staffed = _staffed(conn, start, until)
    sealed = _sealed(conn, until)
    by_grid_place: dict[int, list[tuple[str, int]]] = {}
    by_village_place: dict[int, list[tuple[str, int]]] = {}
    for p in all_places:
        key = (str(p.kind), int(p.id))
        if p.grid_id is not None:
            by_grid_place.setdefault(int(p.grid_id), []).append(key)
        if p.village_id is not None:
            by_village_place.setdefault(int(p.village_id), []).append(key)
    staffed_places = {("checkpoint", i) for i in staffed}
    sealed_places = {("entrance", i) for i in sealed}
    out: dict[tuple[str, str], dict[str, int]] = {}
    for k, u in enumerate(units):
        mine = set(u.grid_ids)
        seen = visits.get(k)
        figures = {
            "households_seen": 0 if seen is None else int(seen.households_seen),
            "people_counted": 0 if seen is None else int(seen.people_counted or 0),
        }
        for name in ("returnees", "in_quarantine", "fever"):
            figures[name] = sum(int(getattr(per_grid[g], name)) for g in mine if g in per_grid)
        missed_here = 0
        for g in mine:
            missed_here += missed[codes[g]][1] if codes.get(g) in missed else 0
        figures["missed_checks"] = missed_here
        places_here: set[tuple[str, int]] = set()
        if u.kind != "grid":
            places_here.update(by_village_place.get(u.village_id, ()))
        for g in mine:
            places_here.update(by_grid_place.get(g, ()))
        figures["checkpoints_staffed"] = len(places_here & staffed_places)
        figures["entrances_sealed"] = len(places_here & sealed_places)
        out[(u.kind, u.key)] = figures
    return out


def day_figures(
    conn: Connection, day: date, now: datetime
) -> dict[tuple[str, str], dict[str, int]]:
    """Every expected unit's figures on `day` as the records say at `now` (every visit that
    has arrived), keyed by (kind, key): for the 18:00 summary and the board."""
    return unit_figures(conn, day, now, expected_units(conn, day))
