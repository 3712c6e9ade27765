"""The coverage report's household figures per grid, kept as a cache of the report itself.

Two parts (migration 0022):

- `coverage_grid_cache`: per grid, the figures that change only with the town's structure
  (households, buildings, roads, grids, villages) and with what a key names (the checkpoints
  active at the moment with their positions and reach, the staffed patrol zones, the report's
  options): households, reached, buildings without households, households in a day and a
  night patrol zone. Computed for the whole town at once by `coverage_report` itself, under
  the structure generation that any structural write moves on (statement triggers).
- `coverage_grid_visits`: per grid, its households' latest visits, sorted, under the version
  that a visit moves on for that grid alone. `width_bucket` then counts the households seen
  in a window up to any moment at or after the grid's latest visit; for a moment before it,
  the grid is counted from the records as of that moment.

`household_counts` brings both up to date (in a transaction of its own, town-wide: a scoped
reader's own transaction cannot see every grid) and then reads them in the caller's
transaction, checked against the generation and versions again, so that a write between the
two is never answered from the cache: a grid visited since the refresh has its visits counted
from the records (the rest of its figures stand), a structural write since the refresh has the
whole report counted from them. It answers None (count from the records) when a
household has no grid, since the per-grid visits could not place it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar, cast

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, text

from geodata.analysis.coverage.inputs import CoverageInputs
from geodata.analysis.coverage.patrol import PERIODS
from geodata.analysis.coverage.report import (
    HOUSEHOLD_FIGURES,
    ROAD_FIGURES,
    coverage_report,
    patrol_road_counts,
    road_crossings,
)
from geodata.analysis.coverage.screening import SCREENING_HOURS
from geodata.auth.rls import as_town
from geodata.records.as_of import last_visit_as_of
from geodata.records.coverage_inputs import fetch_inputs, fetch_places, fetch_structure

Ints = NDArray[np.int64]
T = TypeVar("T")

STRUCTURAL = (
    "households",
    "reached",
    "buildings_without_households",
    "households_patrolled_day",
    "households_patrolled_night",
    *ROAD_FIGURES,
)
"""The figures of `coverage_grid_cache.counts`, in this order."""
LOCK_KEY = 0x77616E6767650002
"""pg_advisory_xact_lock key of the refresh (one refresher at a time, in any process)."""


def cache_key(inputs: CoverageInputs, *, radius_m: float | None, network: bool) -> str:
    """What the structural figures depend on besides the structure: the figures kept, the
    active checkpoints (id, position, reach), the patrol zones (id, period, whether staffed,
    outline) and the options."""
    # The figures kept (their names and order) belong to the key: a release that changes
    # them never reads rows written by another.
    digest = hashlib.sha256(repr((STRUCTURAL, radius_m, network)).encode())
    cps = inputs.checkpoints[inputs.checkpoints["active"].to_numpy(bool)]
    for row in cps[["id", "lon", "lat", "radius_m"]].itertuples(index=False, name=None):
        digest.update(repr(row).encode())
    zones = inputs.patrol_zones
    outlines = shapely.to_wkb(np.asarray(zones["geometry"], dtype=object))
    for zone_id, period, staffed, wkb in zip(
        zones["id"].tolist(),
        zones["period"].tolist(),
        np.asarray(zones["staffed"], dtype=bool).tolist(),
        outlines.tolist(),
        strict=True,
    ):
        digest.update(repr((zone_id, period, staffed)).encode())
        digest.update(bytes(wkb) if wkb is not None else b"-")
    return digest.hexdigest()


def _structure(conn: Connection) -> int:
    return int(conn.execute(text("SELECT structure FROM coverage_cache_state")).scalar_one())


def _structural_figures(
    conn: Connection, as_of: datetime, *, radius_m: float | None, network: bool
) -> dict[int, list[int]]:
    """Per grid id, the STRUCTURAL figures of the whole town's report at `as_of`."""
    inputs = fetch_inputs(conn, as_of=as_of, per_building=True)
    report = coverage_report(inputs, radius_m=radius_m, network=network, level="grid")
    ids = dict(zip(inputs.grids["code"].tolist(), inputs.grids["id"].tolist(), strict=True))
    patrolled = {g["code"]: g for g in report["patrol"]["grids"]}
    roads = patrol_road_counts(inputs)
    position = {code: i for i, code in enumerate(inputs.grids["code"].tolist())}
    out: dict[int, list[int]] = {}
    for grid in report["grids"]:
        zones, i = patrolled[grid["code"]], position[grid["code"]]
        out[int(ids[grid["code"]])] = [
            int(grid["households"]),
            int(grid["reached"]),
            int(grid["buildings_without_households"]),
            *(int(zones[p]["households_covered"]) for p in PERIODS),
            *(int(roads[name][i]) for name in ROAD_FIGURES),
        ]
    return out


def refresh(conn: Connection, inputs: CoverageInputs, key: str, **options: Any) -> dict[str, int]:
    """Bring the key's structural figures and every grid's visits up to date, town-wide, in
    this transaction. Returns how many grids of each were computed."""
    as_town(conn)
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    structure = _structure(conn)  # read before the records it stands for
    grids = int(conn.execute(text("SELECT count(*) FROM grids")).scalar_one())
    held = conn.execute(
        text("SELECT count(*) FROM coverage_grid_cache WHERE key = :k AND structure = :s"),
        {"k": key, "s": structure},
    ).scalar_one()
    computed = 0
    if held < grids:
        figures = _structural_figures(conn, inputs.as_of, **options)
        conn.execute(
            text("DELETE FROM coverage_grid_cache WHERE key = :k OR structure < :s"),
            {"k": key, "s": structure},
        )
        conn.execute(
            text(
                "INSERT INTO coverage_grid_cache (key, grid_id, structure, counts)"
                " VALUES (:k, :g, :s, CAST(:c AS bigint[]))"
            ),
            [{"k": key, "g": g, "s": structure, "c": c} for g, c in figures.items()],
        )
        computed = len(figures)
    # Each grid's households' latest visits, with the grid's visit version read in the same
    # statement (the same snapshot) as the visits themselves.
    visits = conn.execute(
        text(
            """
            INSERT INTO coverage_grid_visits
                (grid_id, structure, visits, households, last_visits, max_visit)
            SELECT g.id, :s, coalesce(ver.visits, 0), count(h.id),
                   coalesce(array_agg(h.last_visited_at ORDER BY h.last_visited_at)
                            FILTER (WHERE h.last_visited_at IS NOT NULL), '{}'),
                   max(h.last_visited_at)
            FROM grids AS g
            LEFT JOIN coverage_grid_versions AS ver ON ver.grid_id = g.id
            LEFT JOIN coverage_grid_visits AS v ON v.grid_id = g.id
            LEFT JOIN households AS h ON h.grid_id = g.id
            WHERE v.grid_id IS NULL OR v.structure <> :s
               OR v.visits <> coalesce(ver.visits, 0)
            GROUP BY g.id, ver.visits
            ON CONFLICT (grid_id) DO UPDATE SET
                structure = excluded.structure, visits = excluded.visits,
                households = excluded.households, last_visits = excluded.last_visits,
                max_visit = excluded.max_visit
            """
        ),
        {"s": structure},
    ).rowcount
    return {"structural": computed, "visits": int(visits)}


READ_SQL = """
    SELECT c.grid_id, c.counts, v.households,
           v.visits = coalesce(ver.visits, 0)
           AND (v.max_visit IS NULL OR v.max_visit <= CAST(:as_of AS timestamptz)) AS holds,
           cardinality(v.last_visits) AS visited,
           cardinality(v.last_visits) - width_bucket(
               CAST(:as_of AS timestamptz) - make_interval(secs => :window), v.last_visits
           ) AS screened,
           cardinality(v.last_visits) - width_bucket(
               CAST(:as_of AS timestamptz) - make_interval(secs => :day), v.last_visits
           ) AS screened_24h
    FROM coverage_grid_cache AS c
    JOIN coverage_grid_visits AS v ON v.grid_id = c.grid_id AND v.structure = c.structure
    LEFT JOIN coverage_grid_versions AS ver ON ver.grid_id = c.grid_id
    WHERE c.key = :k
      AND c.structure = (SELECT structure FROM coverage_cache_state)
"""
"""Per grid of the key under the current structure generation, its structural figures and
whether its kept visits answer for the moment (`holds`: no visit since they were read, none
after the moment); a grid whose kept visits do not is counted from the records (LATE_SQL)."""
LATE_SQL = f"""
    SELECT h.grid_id,
           count(*) FILTER (WHERE lv.at IS NULL) AS never,
           count(*) FILTER (WHERE lv.at > CAST(:as_of AS timestamptz)
                                          - make_interval(secs => :window)
                              AND lv.at <= CAST(:as_of AS timestamptz)) AS screened,
           count(*) FILTER (WHERE lv.at > CAST(:as_of AS timestamptz)
                                          - make_interval(secs => :day)
                              AND lv.at <= CAST(:as_of AS timestamptz)) AS screened_24h
    FROM households AS h
    CROSS JOIN LATERAL (SELECT {last_visit_as_of("h", "CAST(:as_of AS timestamptz)")} AS at) AS lv
    WHERE h.grid_id = ANY (CAST(:grids AS bigint[]))
    GROUP BY h.grid_id
"""  # noqa: S608 (the as-of fragment of geodata.records.as_of, constant arguments)


def household_counts(
    conn: Connection,
    inputs: CoverageInputs,
    *,
    radius_m: float | None = None,
    network: bool = False,
    hours: float = SCREENING_HOURS,
) -> dict[str, Ints] | None:
    """HOUSEHOLD_FIGURES and ROAD_FIGURES per grid of `inputs.grids` (zero outside
    `inputs.grid_ids`), as `coverage_report` counts them from the records as of
    `inputs.as_of`; None when the cache cannot answer (a household with no grid). `conn` is
    the caller's (scoped) transaction."""
    with conn.engine.begin() as town:
        as_town(town)
        if town.execute(
            text("SELECT EXISTS (SELECT 1 FROM households WHERE grid_id IS NULL)")
        ).scalar_one():
            return None
        key = cache_key(inputs, radius_m=radius_m, network=network)
        refresh(town, inputs, key, radius_m=radius_m, network=network)
    params = {
        "k": key,
        "as_of": inputs.as_of,
        "window": float(hours) * 3600.0,
        "day": float(SCREENING_HOURS) * 3600.0,
    }
    rows = {int(r.grid_id): r for r in conn.execute(text(READ_SQL), params)}
    grid_ids = inputs.grids["id"].to_numpy(np.int64)
    wanted = [
        int(g) for g in grid_ids.tolist() if inputs.grid_ids is None or int(g) in inputs.grid_ids
    ]
    if any(g not in rows for g in wanted):
        return None  # a structural write since the refresh: counted from the records instead
    late = [g for g in wanted if not rows[g].holds]
    # Grids with a visit since the refresh or after the moment: their visits counted as of
    # the moment from the records (the structural figures stand: a visit does not move them).
    counted = (
        {int(r.grid_id): r for r in conn.execute(text(LATE_SQL), {**params, "grids": late})}
        if late
        else {}
    )
    out = {name: np.zeros(len(grid_ids), dtype=np.int64) for name in HOUSEHOLD_FIGURES}
    out.update({name: np.zeros(len(grid_ids), dtype=np.int64) for name in ROAD_FIGURES})
    position = {int(g): i for i, g in enumerate(grid_ids.tolist())}
    for g in wanted:
        row, i = rows[g], position[g]
        for name, value in zip(STRUCTURAL, row.counts, strict=True):
            out[name][i] = int(value)
        if g in late:
            found = counted.get(g)
            out["never_visited"][i] = int(found.never) if found else 0
            out["screened"][i] = int(found.screened) if found else 0
            out["screened_24h"][i] = int(found.screened_24h) if found else 0
        else:
            out["never_visited"][i] = int(row.households) - int(row.visited)
            out["screened"][i] = int(row.screened)
            out["screened_24h"][i] = int(row.screened_24h)
    return out


_KEPT: dict[tuple[object, ...], object] = {}
_KEPT_LOCK = threading.Lock()
KEPT_MAX = 8
"""How many kept values (crossings, places, structure) a process holds, of every database it
serves."""


def _kept(key: tuple[object, ...], make: Callable[[], T]) -> T:
    """The value kept under `key` in this process, made and kept when missing."""
    with _KEPT_LOCK:
        found = _KEPT.get(key)
    if found is not None:
        return cast(T, found)
    value = make()
    with _KEPT_LOCK:
        if len(_KEPT) >= KEPT_MAX:
            _KEPT.clear()
        _KEPT[key] = value
    return value


def town_inputs(
    conn: Connection, *, as_of: datetime | None, grid_ids: frozenset[int] | None
) -> CoverageInputs:
    """The inputs without households and buildings (their figures come from the cache),
    scoped to `grid_ids`. Kept in this process between reports: the entrances, their events
    and the compounds under the places generation, and the villages, grids, roads and the
    roads' crossings of village boundaries under the structure generation (writes to those
    tables move them on)."""
    # Which database (its URL and its oid, new when it is made anew) and its generations,
    # read before the rows they stand for.
    oid, structure, places = conn.execute(
        text(
            "SELECT (SELECT oid FROM pg_database WHERE datname = current_database()),"
            " structure, places FROM coverage_cache_state"
        )
    ).one()
    database = (conn.engine.url.render_as_string(hide_password=True), int(oid))
    rows = _kept(("places", database, int(places)), lambda: fetch_places(conn))
    kept = _kept(("structure", database, int(structure)), lambda: fetch_structure(conn))
    inputs = fetch_inputs(conn, as_of=as_of, grid_ids=frozenset(), places=rows, structure=kept)
    crossings = _kept(
        ("crossings", database, int(structure), inputs.metric_epsg()),
        lambda: road_crossings(inputs),
    )
    return replace(inputs, grid_ids=grid_ids, crossings=crossings)
