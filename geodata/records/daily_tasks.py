"""19:00: each grid worker's task list for a town day, balanced across the workers of a grid.

A grid's stops are its households due a visit on the day:

- quarantine checks: the households of people in home quarantine or observation (not
  concentrated isolation) with their check windows of the day
  (`geodata.records.quarantines.due`): one visit per window;
- screening: households never seen, or not seen (`seen_all`, `partial`) within the screening
  window (`screening_window_days`) before the day: one visit (taken with a check visit
  when the household has one).

Estimated minutes = visits × `minutes_per_visit` + walking between buildings: straight-line
metres (an equirectangular approximation, good to well under 1 % across a township) at
`WALK_M_PER_MIN` (4 km/h). The grid's stops are put in one walking order, greedy nearest
neighbour from the westernmost building (stops of one building together), and the order is
cut into one contiguous piece per worker of the grid (workers by username) so that the
longest piece is as short as it can be (a binary search on the longest with a greedy fill):
each worker walks one stretch and the workers' minutes differ as little as the cut allows.

The grid's entrances and checkpoints go to the worker whose stretch has the building nearest
to each (the first worker when nobody has stops), to look at; they add no minutes.

Stops are labelled with addresses people use (village, compound, building, unit, room) and
the household id (for the field app), never source ids; checks name a window and how many
people, never who.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, text

from geodata.records import quarantines
from geodata.records.addresses import addresses
from geodata.records.daily_reports import day_bounds, places
from geodata.records.town_settings import setting, town_timezone

WALK_M_PER_MIN = 4000 / 60
"""Walking speed: 4 km/h."""
M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON_EQUATOR = 111_320.0


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line metres between two (lon, lat) points (equirectangular)."""
    lat = math.radians((a[1] + b[1]) / 2)
    dx = (b[0] - a[0]) * M_PER_DEG_LON_EQUATOR * math.cos(lat)
    dy = (b[1] - a[1]) * M_PER_DEG_LAT
    return math.hypot(dx, dy)


def _xy(points: list[tuple[float, float]]) -> Any:
    """Points as metres east and north of their first one (equirectangular), an n×2 array."""
    import numpy as np

    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    lat = math.radians(float(pts[:, 1].mean())) if len(pts) else 0.0
    return np.column_stack(
        (pts[:, 0] * M_PER_DEG_LON_EQUATOR * math.cos(lat), pts[:, 1] * M_PER_DEG_LAT)
    )


def walking_order(points: list[tuple[float, float]]) -> list[int]:
    """Greedy nearest neighbour from the westernmost point (then southernmost): indexes;
    ties go to the lower index."""
    import numpy as np

    if not points:
        return []
    xy = _xy(points)
    left = np.ones(len(points), dtype=bool)
    current = min(range(len(points)), key=lambda i: (points[i][0], points[i][1], i))
    order = [current]
    left[current] = False
    for _ in range(len(points) - 1):
        d = np.hypot(*(xy - xy[current]).T)
        d[~left] = np.inf
        current = int(np.argmin(d))
        order.append(current)
        left[current] = False
    return order


def nearest(points: list[tuple[float, float]], to: list[tuple[float, float]]) -> list[int]:
    """For each of `to`, the index of the nearest of `points` (which must not be empty)."""
    import numpy as np

    if not to:
        return []
    xy = _xy(points + to)
    a, b = xy[: len(points)], xy[len(points) :]
    d = np.hypot(b[:, None, 0] - a[None, :, 0], b[:, None, 1] - a[None, :, 1])
    return [int(i) for i in np.argmin(d, axis=1)]


def _pieces(minutes: list[float], legs: list[float], cap: float, k: int) -> list[int] | None:
    """Greedy fill under `cap`: the start index of each piece, or None if more than k."""
    starts = [0]
    total = 0.0
    for i, m in enumerate(minutes):
        if i == 0:
            total = m
            continue
        more = total + legs[i - 1] + m
        if more <= cap + 1e-9:
            total = more
        else:
            starts.append(i)
            total = m
            if len(starts) > k:
                return None
    return starts


def split(minutes: list[float], legs: list[float], k: int) -> list[int]:
    """Cut stops (in walking order: their visit minutes, and the walking minutes of each leg
    to the next) into at most k contiguous pieces minimising the longest piece: the start
    index of each piece (padded with empty pieces at the end to k)."""
    if k <= 0:
        raise ValueError("at least one worker")
    if not minutes:
        return [0] * k
    low = max(minutes)
    high = sum(minutes) + sum(legs)
    for _ in range(60):
        if high - low < 1e-6:
            break
        mid = (low + high) / 2
        if _pieces(minutes, legs, mid, k) is None:
            low = mid
        else:
            high = mid
    starts = _pieces(minutes, legs, high, k)
    assert starts is not None
    return starts + [len(minutes)] * (k - len(starts))


def grid_workers(conn: Connection) -> dict[int, list[str]]:
    """Each grid's active grid workers (usernames, sorted)."""
    rows = conn.execute(
        text(
            "SELECT ug.grid_id, u.username FROM user_grids ug JOIN users u ON u.id = ug.user_id"
            " WHERE u.role = 'grid_worker' AND u.active ORDER BY ug.grid_id, u.username"
        )
    ).all()
    out: dict[int, list[str]] = defaultdict(list)
    for r in rows:
        out[int(r.grid_id)].append(str(r.username))
    return out


def _window_label(zone: Any, label: str) -> str:
    a, b = label.split("/")
    start = datetime.fromisoformat(a).astimezone(zone)
    end = datetime.fromisoformat(b).astimezone(zone)
    return f"{start:%H:%M}-{'24:00' if end.time().hour == 0 and end > start else f'{end:%H:%M}'}"


def _checks(conn: Connection, day: date, start: datetime) -> dict[int, dict[str, int]]:
    """Per household: its check windows of the day and how many people each."""
    due = quarantines.due(conn, day, start)["checks"]
    ids = sorted({int(c["quarantine"]) for c in due})
    homes: dict[int, int] = dict(
        conn.execute(
            text(
                "SELECT q.id, r.household_id FROM quarantines q JOIN residents r"
                " ON r.id = q.resident_id WHERE q.id = ANY(CAST(:q AS bigint[]))"
                " AND q.type <> 'concentrated'"
            ),
            {"q": ids},
        ).all()
    )
    out: dict[int, dict[str, int]] = defaultdict(dict)
    zone = town_timezone(conn)
    labels: dict[str, str] = {}
    for c in due:
        household = homes.get(int(c["quarantine"]))
        if household is None:
            continue
        window = labels.setdefault(str(c["window"]), _window_label(zone, str(c["window"])))
        out[int(household)][window] = out[int(household)].get(window, 0) + 1
    return out


SCREENING_SQL = text(
    """
    SELECT h.id, h.grid_id FROM households h
    WHERE h.grid_id = ANY(CAST(:grids AS bigint[])) AND NOT EXISTS (
        SELECT 1 FROM visits v WHERE v.household_id = h.id
        AND v.result IN ('seen_all', 'partial') AND v.visited_at >= :since
        AND v.visited_at < :start)
    """
)
"""Households never seen, or not seen within the screening window before the day."""

STOPS_SQL = text(
    """
    SELECT h.id, h.grid_id,
           ST_X(ST_PointOnSurface(coalesce(b.geom, g.geom))) AS lon,
           ST_Y(ST_PointOnSurface(coalesce(b.geom, g.geom))) AS lat,
           coalesce(h.building_id, 0) AS building
    FROM households h JOIN grids g ON g.id = h.grid_id
    LEFT JOIN buildings b ON b.id = h.building_id
    WHERE h.id = ANY(CAST(:ids AS bigint[]))
    """
)


def build(
    conn: Connection, day: date, now: datetime, *, grid_ids: frozenset[int] | None = None
) -> dict[str, Any]:
    """Every grid worker's task list for `day` as the records say at `now` (see the module's
    docstring), over the grids in `grid_ids` when given (a worker of other grids too gets
    only these grids' part): `{"date", "minutes_per_visit", "walk_m_per_min", "workers",
    "unassigned"}`."""
    start, _ = day_bounds(conn, day)
    per_visit = int(setting(conn, "minutes_per_visit"))
    window_days = int(setting(conn, "screening_window_days"))
    workers = grid_workers(conn)
    grids: dict[int, str] = dict(conn.execute(text("SELECT id, code FROM grids")).all())
    if grid_ids is not None:
        grids = {g: c for g, c in grids.items() if g in grid_ids}
        workers = {g: w for g, w in workers.items() if g in grid_ids}
    checks = _checks(conn, day, start)
    screening = {
        int(r.id): int(r.grid_id)
        for r in conn.execute(
            SCREENING_SQL,
            {"grids": sorted(grids), "since": start - timedelta(days=window_days),
             "start": start},
        ).all()
    }  # fmt: skip
    due_ids = sorted(set(screening) | set(checks))
    rows = conn.execute(STOPS_SQL, {"ids": due_ids}).all()
    where = addresses(conn, due_ids)
    by_grid: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        by_grid[int(r.grid_id)].append(r)
    grid_places: dict[int, list[Any]] = defaultdict(list)
    for p in places(conn):
        if p.grid_id is not None and int(p.grid_id) in grids:
            grid_places[int(p.grid_id)].append(p)
    lists: dict[str, dict[str, Any]] = {}

    def list_of(worker: str) -> dict[str, Any]:
        return lists.setdefault(
            worker,
            {"worker": worker, "grids": [], "minutes": 0.0, "visit_minutes": 0,
             "walk_m": 0.0, "stops": [], "look_at": []},
        )  # fmt: skip

    for names in workers.values():
        for name in names:
            list_of(name)
    unassigned = []
    for grid_id in sorted((set(by_grid) | set(grid_places)) & set(grids), key=grids.__getitem__):
        stops = sorted(by_grid.get(grid_id, []), key=lambda r: int(r.id))
        code = str(grids[grid_id])
        names = workers.get(grid_id, [])
        if not names:
            if stops:
                unassigned.append({"grid": code, "stops": len(stops)})
            continue
        points = [(float(s.lon), float(s.lat)) for s in stops]
        order = [stops[i] for i in walking_order(points)]
        visits = [max(1, sum(1 for _ in checks.get(int(s.id), {}))) for s in order]
        legs_m = [
            metres((float(a.lon), float(a.lat)), (float(b.lon), float(b.lat)))
            for a, b in pairwise(order)
        ]
        starts = split(
            [v * per_visit for v in visits], [m / WALK_M_PER_MIN for m in legs_m], len(names)
        )
        bounds = [*starts, len(order)]
        nearest_piece: list[int] = []
        for k, name in enumerate(names):
            mine = list_of(name)
            mine["grids"].append(code)
            a, b = bounds[k], bounds[k + 1]
            walk = sum(legs_m[a : b - 1]) if b - a > 1 else 0.0
            mine["walk_m"] += walk
            mine["visit_minutes"] += sum(visits[a:b]) * per_visit
            mine["minutes"] += sum(visits[a:b]) * per_visit + walk / WALK_M_PER_MIN
            for s, v in zip(order[a:b], visits[a:b], strict=True):
                windows = checks.get(int(s.id), {})
                mine["stops"].append({
                    "household": int(s.id), "grid": code, "address": where.get(int(s.id)),
                    "screening": int(s.id) in screening,
                    "checks": [{"window": w, "people": n} for w, n in sorted(windows.items())],
                    "visits": v, "minutes": v * per_visit,
                })  # fmt: skip
                nearest_piece.append(k)
        here = grid_places.get(grid_id, [])
        closest = (
            nearest([(float(s.lon), float(s.lat)) for s in order],
                    [(float(p.lon), float(p.lat)) for p in here])
            if order else [0] * len(here)
        )  # fmt: skip
        for p, i in zip(here, closest, strict=True):
            k = nearest_piece[i] if order else 0
            list_of(names[k])["look_at"].append(
                {"kind": p.kind, "name": p.name, "grid": code,
                 "lon": round(float(p.lon), 6), "lat": round(float(p.lat), 6)}
            )  # fmt: skip
    for mine in lists.values():
        mine["minutes"] = round(mine["minutes"], 1)
        mine["walk_m"] = round(mine["walk_m"])
    return {
        "date": day.isoformat(),
        "minutes_per_visit": per_visit,
        "walk_m_per_min": round(WALK_M_PER_MIN, 2),
        "workers": [lists[name] for name in sorted(lists)],
        "unassigned": unassigned,
    }


def store(conn: Connection, built: dict[str, Any], now: datetime) -> int:
    """Keep the lists as the day's snapshot (a list already stored stays as it was): the
    number of lists newly stored."""
    import json

    day = date.fromisoformat(built["date"])
    done = 0
    for entry in built["workers"]:
        done += conn.execute(
            text(
                "INSERT INTO daily_task_lists (day, worker, tasks, built_at)"
                " VALUES (:d, :w, CAST(:t AS jsonb), :at) ON CONFLICT DO NOTHING"
            ),
            {"d": day, "w": entry["worker"], "t": json.dumps(entry), "at": now},
        ).rowcount
    return int(done)


def stored(conn: Connection, day: date) -> list[dict[str, Any]] | None:
    """The day's stored lists (by worker), or None when none were built."""
    rows = conn.execute(
        text("SELECT tasks, built_at FROM daily_task_lists WHERE day = :d ORDER BY worker"),
        {"d": day},
    ).all()
    if not rows:
        return None
    zone = town_timezone(conn)
    return [{**dict(r.tasks), "built_at": r.built_at.astimezone(zone).isoformat()} for r in rows]
