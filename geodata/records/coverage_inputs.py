"""Read the coverage inputs from PostGIS as of a moment, for a scope of grids."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import shapely
from psycopg import sql
from sqlalchemy import Connection, text

from geodata.analysis.coverage.inputs import CoverageInputs, town_epsg
from geodata.analysis.coverage.metric import project_xy
from geodata.analysis.coverage.screening import SCREENING_HOURS
from geodata.analysis.coverage.staffing import WINDOW_HOURS, window_start_s
from geodata.db.bulk import raw
from geodata.records.as_of import checkpoint_state_as_of, last_visit_as_of
from geodata.records.town_settings import duty_clock


def _copy_frame(conn: Connection, query: sql.Composable, dtypes: dict[str, Any]) -> pd.DataFrame:
    """A query's rows through COPY as CSV: fast for a million rows."""
    buf = io.BytesIO()
    statement = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv)").format(query)
    with raw(conn).cursor() as cur, cur.copy(statement) as copy:
        for block in copy:
            buf.write(block)
    buf.seek(0)
    if not buf.getbuffer().nbytes:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
    return pd.read_csv(buf, header=None, names=list(dtypes), dtype=dtypes)


def _frame(conn: Connection, query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """A small query's rows; a `wkb` column becomes shapely `geometry`."""
    result = conn.execute(text(query), params or {})
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    if "wkb" in frame.columns:
        frame["geometry"] = shapely.from_wkb(frame.pop("wkb").map(bytes).to_numpy(object))
        if not len(frame):
            frame["geometry"] = frame["geometry"].astype(object)
    return frame


def _at_buildings(households: pd.DataFrame, buildings: pd.DataFrame) -> None:
    """Each household where its building's centroid is (NaN without a building): positions
    computed and projected once per building, not once per household."""
    at = pd.Index(buildings["id"]).get_indexer(households["building_id"].fillna(-1))
    known = at >= 0
    for column in ("lon", "lat", "x", "y"):
        values = np.full(len(households), np.nan)
        values[known] = buildings[column].to_numpy(float)[at[known]]
        households[column] = values


def _scope_filter(column: str, grid_ids: frozenset[int] | None) -> sql.Composable:
    if grid_ids is None:
        return sql.SQL("TRUE")
    ids = sql.SQL(", ").join(sql.Literal(int(g)) for g in sorted(grid_ids)) if grid_ids else None
    if ids is None:
        return sql.SQL("FALSE")
    return sql.SQL("{} IN ({})").format(sql.SQL(column), ids)


ENTRANCES_AS_OF = """
    SELECT e.id, e.name, e.compound_id, e.village_id,
           CASE
               WHEN NOT EXISTS (SELECT 1 FROM entrance_events AS v WHERE v.entrance_id = e.id)
                   THEN CASE WHEN e.since <= {at} THEN e.state::text END
               WHEN past.state IS NOT NULL THEN past.state
               WHEN EXISTS (
                   SELECT 1 FROM entrance_events AS v WHERE v.entrance_id = e.id AND v.at > {at}
               ) THEN (
                   SELECT v.from_state::text FROM entrance_events AS v
                   WHERE v.entrance_id = e.id AND v.at > {at} AND v.from_state IS NOT NULL
                   ORDER BY v.at, v.id LIMIT 1
               )
           END,
           extract(epoch FROM e.since), ST_X(e.geom), ST_Y(e.geom)
    FROM entrances AS e
    LEFT JOIN LATERAL (
        SELECT v.to_state::text AS state FROM entrance_events AS v
        WHERE v.entrance_id = e.id AND v.at <= {at} AND v.to_state IS NOT NULL
        ORDER BY v.at DESC, v.id DESC LIMIT 1
    ) AS past ON true
    ORDER BY e.id
"""
"""Each entrance with its state at `{at}` replayed from its events in the database, as
geodata.analysis.entrance_replay.entrance_states_as_of does from all of them: the latest
state an event at or before the moment gave it; before its first event, the state that
event found it in; with no event, its own state from `since` on (None: not there yet)."""


ENTRANCE_COLUMNS: dict[str, Any] = {
    "id": "int64",
    "name": object,
    "compound_id": "float64",
    "village_id": "float64",
    "state": object,
    "since_s": "float64",
    "lon": "float64",
    "lat": "float64",
}


@dataclass(frozen=True)
class Places:
    """Entrances (with their state now and since when), their events and the compounds: what
    the coverage inputs read of them whatever the moment. Not to be changed in place."""

    entrances: pd.DataFrame
    events: pd.DataFrame
    compounds: pd.DataFrame


def _compounds(conn: Connection) -> pd.DataFrame:
    return _copy_frame(
        conn,
        sql.SQL(
            "SELECT id, name, village_id, ST_X(p), ST_Y(p)"
            " FROM compounds CROSS JOIN LATERAL (SELECT ST_PointOnSurface(geom) AS p) s"
            " ORDER BY id"
        ),
        {"id": "int64", "name": object, "village_id": "float64", "lon": "float64",
         "lat": "float64"},
    )  # fmt: skip


def fetch_places(conn: Connection) -> Places:
    """The entrances, their events and the compounds as they are."""
    entrances = _copy_frame(
        conn,
        sql.SQL(
            "SELECT id, name, compound_id, village_id, state, extract(epoch FROM since),"
            " ST_X(geom), ST_Y(geom) FROM entrances ORDER BY id"
        ),
        ENTRANCE_COLUMNS,
    )
    events = _copy_frame(
        conn,
        sql.SQL(
            "SELECT entrance_id, extract(epoch FROM at), from_state, to_state"
            " FROM entrance_events ORDER BY entrance_id, at, id"
        ),
        {"entrance_id": "int64", "at_s": "float64", "from_state": object, "to_state": object},
    )
    return Places(entrances=entrances, events=events, compounds=_compounds(conn))


def _households(conn: Connection, at: sql.Composable, in_scope: sql.Composable) -> pd.DataFrame:
    """One row per household: id, grid_id, building_id, last_visit_s (as of `at`)."""
    return _copy_frame(
        conn,
        sql.SQL(
            "SELECT h.id, h.grid_id, h.building_id, extract(epoch FROM {last})"
            " FROM households h WHERE {scope}"
        ).format(last=sql.SQL(last_visit_as_of("h", "{at}")).format(at=at), scope=in_scope),
        {"id": "int64", "grid_id": "Int64", "building_id": "Int64", "last_visit_s": "float64"},
    ).sort_values("id", ignore_index=True)  # in id order, whatever order the table is in


def _households_per_building(
    conn: Connection, at: sql.Composable, in_scope: sql.Composable, hours: float
) -> pd.DataFrame:
    """One row per building and grid of households: grid_id, building_id, and how many
    households (`n`), never visited (`never`), seen in the `hours` up to `at` (`screened`)
    and in the 24 hours up to it (`screened_24h`)."""
    return _copy_frame(
        conn,
        sql.SQL(
            "SELECT h.grid_id, h.building_id, count(*), count(*) FILTER (WHERE lv.at IS NULL),"
            " count(*) FILTER (WHERE lv.at > {at} - make_interval(secs => {window})"
            " AND lv.at <= {at}),"
            " count(*) FILTER (WHERE lv.at > {at} - make_interval(secs => {day})"
            " AND lv.at <= {at})"
            " FROM households h CROSS JOIN LATERAL (SELECT {last} AS at) lv"
            " WHERE {scope} GROUP BY h.grid_id, h.building_id"
            " ORDER BY h.grid_id NULLS FIRST, h.building_id NULLS FIRST"
        ).format(
            at=at,
            window=sql.Literal(float(hours) * 3600.0),
            day=sql.Literal(float(SCREENING_HOURS) * 3600.0),
            last=sql.SQL(last_visit_as_of("h", "{at}")).format(at=at),
            scope=in_scope,
        ),
        {
            "grid_id": "Int64",
            "building_id": "Int64",
            "n": "int64",
            "never": "int64",
            "screened": "int64",
            "screened_24h": "int64",
        },
    )


@dataclass(frozen=True)
class Structure:
    """The villages, grids and roads (each with its `geometry`): what the coverage inputs read
    of them whatever the moment, moved on only by the structure generation of
    `coverage_cache_state`. Not to be changed in place."""

    villages: pd.DataFrame
    grids: pd.DataFrame
    roads: pd.DataFrame


def fetch_structure(conn: Connection) -> Structure:
    """The villages, grids and roads as they are."""
    return Structure(
        villages=_frame(conn, "SELECT id, code, name, ST_AsBinary(geom) AS wkb FROM villages"),
        grids=_frame(
            conn,
            "SELECT id, code, name, village_id, ST_AsBinary(geom) AS wkb FROM grids ORDER BY id",
        ),
        roads=_frame(
            conn, "SELECT id, name, highway, ST_AsBinary(geom) AS wkb FROM roads ORDER BY id"
        ),
    )


def _patrol_zones(conn: Connection, as_of: datetime) -> pd.DataFrame:
    """The current zones; `staffed`: a shift with people on the zone in its period's window
    of the duty day holding the moment (who patrols a zone is a shift on it)."""
    clock = duty_clock(conn)
    day = clock.duty_day(as_of)
    (day_start, day_end), (night_start, night_end) = (
        clock.window(day, p) for p in ("day", "night")
    )
    return _frame(
        conn,
        "SELECT z.id, z.name, z.period, z.team_id, z.village_id, ST_AsBinary(z.geom) AS wkb,"
        " EXISTS (SELECT 1 FROM checkpoint_shifts s WHERE s.patrol_zone_id = z.id"
        " AND s.staff_count > 0"
        " AND s.starts_at < CASE z.period WHEN 'day' THEN :de ELSE :ne END"
        " AND s.ends_at > CASE z.period WHEN 'day' THEN :ds ELSE :ns END) AS staffed"
        " FROM patrol_zones z WHERE z.retired_at IS NULL ORDER BY z.id",
        {"ds": day_start, "de": day_end, "ns": night_start, "ne": night_end},
    )


def fetch_inputs(
    conn: Connection,
    *,
    as_of: datetime | None = None,
    grid_ids: frozenset[int] | None = None,
    per_building: bool = False,
    screening_hours: float = SCREENING_HOURS,
    places: Places | None = None,
    structure: Structure | None = None,
) -> CoverageInputs:
    """The town as of `as_of` (default: now): households and buildings of `grid_ids` only.

    Visits count up to `as_of`; entrance and checkpoint states are replayed from their events
    (a checkpoint made later is left out); shifts are those overlapping the 24 hours from the
    whole hour at or before `as_of`.

    With `per_building`, households come counted per building and grid (a household stands
    where its building is, so every figure is the same), screened counted by the database
    for the window of `screening_hours` and for 24 hours (see CoverageInputs): a third of
    the rows of one per household, for a report that lists no household.

    `places` (see `fetch_places`) gives the entrances, their events and the compounds as a
    caller keeps them; each entrance's state at the moment is then replayed from them.
    `structure` (see `fetch_structure`) gives the villages, grids and roads as a caller keeps
    them (copied, never changed in place).
    """
    as_of = as_of if as_of is not None else datetime.now(UTC)
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    at = sql.Literal(as_of)
    in_scope = _scope_filter("h.grid_id", grid_ids)
    if per_building:
        households = _households_per_building(conn, at, in_scope, screening_hours)
    else:
        households = _households(conn, at, in_scope)
    building_scope = (
        sql.SQL("TRUE")
        if grid_ids is None
        else sql.SQL("{} OR b.id IN (SELECT h.building_id FROM households h WHERE {})").format(
            _scope_filter("b.grid_id", grid_ids), in_scope
        )
    )
    buildings = _copy_frame(
        conn,
        sql.SQL(
            "SELECT b.id, b.grid_id, ST_X(c.p), ST_Y(c.p) FROM buildings b"
            " CROSS JOIN LATERAL (SELECT ST_Centroid(b.geom) AS p) c WHERE {}"
        ).format(building_scope),
        {"id": "int64", "grid_id": "Int64", "lon": "float64", "lat": "float64"},
    )
    if structure is None:
        structure = fetch_structure(conn)
    else:
        structure = Structure(
            villages=structure.villages.copy(),
            grids=structure.grids.copy(),
            roads=structure.roads.copy(),
        )
    villages, grids, roads = structure.villages, structure.grids, structure.roads
    # The checkpoints made by then, each in the state its events give it then.
    checkpoints = _frame(
        conn,
        "SELECT c.id, c.name, s.state = 'active' AS active, c.radius_m, c.staff_per_shift,"  # noqa: S608 (the as-of fragment of geodata.records.as_of, constant arguments)
        " c.village_id, c.entrance_id, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat"
        f" FROM checkpoints c CROSS JOIN LATERAL ({checkpoint_state_as_of('c', ':at')}) s"
        " ORDER BY c.id",
        {"at": as_of},
    )
    for column in ("village_id", "entrance_id"):
        checkpoints[column] = checkpoints[column].astype("float64")
    start = window_start_s(as_of.timestamp())
    shifts = _frame(
        conn,
        "SELECT checkpoint_id, extract(epoch FROM starts_at)::float8 AS starts_s,"
        " extract(epoch FROM ends_at)::float8 AS ends_s, staff_count FROM checkpoint_shifts"
        " WHERE ends_at > to_timestamp(:start) AND starts_at < to_timestamp(:end)"
        " AND checkpoint_id IS NOT NULL",
        {"start": start, "end": start + WINDOW_HOURS * 3600.0},
    )
    if places is None:
        entrances = _copy_frame(conn, sql.SQL(ENTRANCES_AS_OF).format(at=at), ENTRANCE_COLUMNS)
        compounds = _compounds(conn)
    else:  # the rows kept by the caller, each entrance replayed to the moment from its events
        from geodata.analysis.entrance_replay import entrance_states_as_of

        entrances = places.entrances.copy()
        entrances["state"] = entrance_states_as_of(entrances, places.events, as_of.timestamp())
        compounds = places.compounds.copy()
    state = entrances["state"]
    entrances["state"] = state.astype(object).where(state.notna(), None)  # None: not there yet
    for column in ("compound_id", "village_id"):
        entrances[column] = entrances[column].astype("float64")
    compounds["village_id"] = compounds["village_id"].astype("float64")
    patrol_zones = _patrol_zones(conn, as_of)
    for frame in (checkpoints, shifts, entrances, compounds):
        for column in ("lon", "lat", "radius_m", "starts_s", "ends_s"):
            if column in frame.columns:
                frame[column] = frame[column].astype("float64")
    epsg = town_epsg(villages if len(villages) else grids)
    for frame in (buildings, checkpoints, entrances, compounds):
        xy = project_xy(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float), epsg)
        frame["x"], frame["y"] = xy[:, 0], xy[:, 1]
    _at_buildings(households, buildings)
    return CoverageInputs(
        as_of=as_of,
        villages=villages,
        grids=grids,
        households=households,
        buildings=buildings,
        checkpoints=checkpoints,
        shifts=shifts,
        entrances=entrances,
        compounds=compounds,
        roads=roads,
        patrol_zones=patrol_zones,
        grid_ids=grid_ids,
        epsg=epsg,
    )


__all__ = ["fetch_inputs"]
