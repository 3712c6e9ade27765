"""The 16:00 unit reports (migration 0018): which units are expected on a town day, each
unit's figures computed from the records, and the reports that confirm them.

Units, as assigned on the day: every grid with households, every village, every combat unit
(team of kind `combat_unit` not retired before the day began). A unit is named by its key
(grid code, village code, team source id) and its kind.

The figures of a unit for a town day (the town's time zone), as of `now` (the end of the day
at the latest), are counts, never people (`FIGURES`):

- `households_seen`: households of the unit's grids with a seen visit (`seen_all`, `partial`);
- `people_counted`: per such household its largest `people_seen`, summed;
- `returnees`: residents of the unit's grids registered as returnees arrived that day;
- `in_quarantine`: quarantines of the unit's grids active at some time of the day;
- `fever`: quarantined people of the unit's grids with a check of 37.3 °C or more that day;
- `missed_checks`: quarantine checks of the day missed by `now`
  (`geodata.records.quarantines.checks_per_grid`);
- `checkpoints_staffed`: the unit's checkpoints with a shift of at least one person that
  overlaps the day up to `now`;
- `entrances_sealed`: the unit's entrances sealed at `now` (or the end of the day).

A grid's places (entrances, checkpoints) are those of its compounds' buildings, else the
nearest grid within about 20 m; a village's are those it owns, its compounds' and its grids'.
A combat unit works its village: its figures are its village's.

Visits count by arrival. A report keeps the largest visit id it took in (`visits_through`);
the visits of the day that reach the server later count in the next day's figures of that
unit (seen on the next day's visits, carried over), unless an amendment takes them in.

`day_figures(conn, day, now)` gives every expected unit's figures as the records say now
(confirmed or not): the function the 18:00 summary reuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, text

from geodata.records import quarantines
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import setting, town_timezone

FIGURES = (
    "households_seen",
    "people_counted",
    "returnees",
    "in_quarantine",
    "fever",
    "missed_checks",
    "checkpoints_staffed",
    "entrances_sealed",
)
KINDS = ("grid", "village", "combat_unit")
MISSING, ZERO, REPORTED, LATE = "missing", "zero", "reported", "late"
MAX_FIGURE = 10_000_000
MAX_NOTE_CHARS = 2000
PLACE_REACH_DEG = 0.0002
"""About 20 m: a village entrance or checkpoint on a grid's edge belongs to that grid."""


@dataclass(frozen=True)
class Unit:
    """An expected unit of a day: its kind, key and name, its village, and its grids."""

    kind: str
    key: str
    name: str
    village: str
    village_id: int
    grid_ids: tuple[int, ...] = field(default=())
    unit_id: int = 0
    """The row id of the grid, village or team."""

    @property
    def label(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.key}"


def day_bounds(conn: Connection, day: date) -> tuple[datetime, datetime]:
    """The town day's start and end, aware, in the town's zone."""
    zone = town_timezone(conn)
    start = datetime.combine(day, time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)


def clock_time(conn: Connection, day: date, key: str) -> datetime:
    """The moment of the day a clock setting (`report_time`, `summary_time`, `tasks_time`)
    names, in the town's zone."""
    hours, minutes = str(setting(conn, key)).split(":")
    return datetime.combine(day, time(int(hours), int(minutes)), tzinfo=town_timezone(conn))


def expected_units(conn: Connection, day: date) -> list[Unit]:
    """Grids with households, villages, combat units not retired before the day: in this
    order, each by key."""
    start, _ = day_bounds(conn, day)
    villages = conn.execute(
        text(
            "SELECT v.id, v.code, v.name, array(SELECT g.id FROM grids g"
            " WHERE g.village_id = v.id ORDER BY g.id) AS grids FROM villages v ORDER BY v.code"
        )
    ).all()
    by_id = {int(v.id): v for v in villages}
    grids = conn.execute(
        text(
            "SELECT g.id, g.code, coalesce(g.name, g.code) AS name, g.village_id FROM grids g"
            " WHERE EXISTS (SELECT 1 FROM households h WHERE h.grid_id = g.id) ORDER BY g.code"
        )
    ).all()
    teams = conn.execute(
        text(
            "SELECT t.id, t.source_id, t.name, t.village_id FROM teams t"
            " WHERE t.kind = 'combat_unit'"
            " AND (t.retired_at IS NULL OR t.retired_at > :start) ORDER BY t.source_id"
        ),
        {"start": start},
    ).all()
    units = [
        Unit("grid", str(g.code), str(g.name), str(by_id[g.village_id].code),
             int(g.village_id), (int(g.id),), int(g.id))
        for g in grids
    ]  # fmt: skip
    units += [
        Unit("village", str(v.code), str(v.name), str(v.code), int(v.id),
             tuple(int(g) for g in v.grids), int(v.id))
        for v in villages
    ]  # fmt: skip
    units += [
        Unit("combat_unit", str(t.source_id), str(t.name), str(by_id[t.village_id].code),
             int(t.village_id), tuple(int(g) for g in by_id[t.village_id].grids), int(t.id))
        for t in teams
    ]  # fmt: skip
    return units


def find_unit(conn: Connection, day: date, name: str, kind: str | None = None) -> Unit:
    """The expected unit named `name` (`kind:key` or a key alone when one kind has it)."""
    key = name.strip()
    if kind is None and ":" in key and key.split(":", 1)[0] in KINDS:
        kind, key = key.split(":", 1)
    if kind is not None and kind not in KINDS:
        raise RecordRefused(f"unit {name!r}: kind: one of {', '.join(KINDS)}")
    found = [
        u for u in expected_units(conn, day) if u.key == key and (kind is None or u.kind == kind)
    ]
    if not found:
        raise RecordRefused(f"unit {name!r}: not an expected unit on {day.isoformat()}")
    if len(found) > 1:
        kinds = ", ".join(f"{u.kind}:{u.key}" for u in found)
        raise RecordRefused(f"unit {name!r}: several units have this key ({kinds}): name one")
    return found[0]


# --- figures -------------------------------------------------------------------------------

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


def _reports_of(conn: Connection, day: date) -> dict[tuple[str, str], Any]:
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
    before = _reports_of(conn, day - timedelta(days=1))
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


# --- reports -------------------------------------------------------------------------------


def corrections_from(raw: dict[str, Any], who: str) -> dict[str, int]:
    """Checked corrections: known figures, whole numbers from 0 to MAX_FIGURE."""
    out: dict[str, int] = {}
    for key, value in raw.items():
        if key not in FIGURES:
            raise RecordRefused(
                f"{who}: correction {key!r}: unknown figure (one of {', '.join(FIGURES)})"
            )
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise RecordRefused(f"{who}: correction {key!r}: a whole number")
        try:
            number = int(value)
        except ValueError:
            raise RecordRefused(f"{who}: correction {key!r}: a whole number") from None
        if not 0 <= number <= MAX_FIGURE:
            raise RecordRefused(f"{who}: correction {key!r}: between 0 and {MAX_FIGURE}")
        out[key] = number
    return out


def _note(note: str | None, who: str) -> str | None:
    if note is None or not note.strip():
        return None
    if len(note) > MAX_NOTE_CHARS:
        raise RecordRefused(f"{who}: note: at most {MAX_NOTE_CHARS} characters")
    return note.strip()


def _today(conn: Connection, now: datetime) -> date:
    return now.astimezone(town_timezone(conn)).date()


def confirm(
    conn: Connection,
    unit: Unit,
    day: date,
    now: datetime,
    *,
    actor: str,
    zero: bool = False,
    note: str | None = None,
    corrections: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Confirm a unit's figures of a day (a zero report when `zero`): the figures as computed
    now are stored with the report. A second confirmation is refused (a change is an
    amendment); a day that has not begun is refused; after the report time it is late."""
    who = f"{unit.label} on {day.isoformat()}"
    if day > _today(conn, now):
        raise RecordRefused(f"{who}: the day has not begun")
    fixes = corrections_from(corrections or {}, who)
    if zero and fixes:
        raise RecordRefused(f"{who}: a zero report has no corrections")
    text_note = _note(note, who)
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('daily_report'), hashtext(:k))"),
                 {"k": f"{day}:{unit.kind}:{unit.key}"})  # fmt: skip
    existing = _reports_of(conn, day).get((unit.kind, unit.key))
    if existing is not None:
        when = existing.confirmed_at.astimezone(town_timezone(conn)).isoformat()
        raise RecordRefused(
            f"{who}: already confirmed at {when}"
            " by its responsible person; a change is an amendment (wangge daily amend)"
        )
    through = last_visit_id(conn)
    figures = unit_figures(conn, day, now, [unit], upto={(unit.kind, unit.key): through})
    late = now > clock_time(conn, day, "report_time")
    report_id = conn.execute(
        text(
            "INSERT INTO daily_reports (day, unit_kind, unit_key, zero, late, figures,"
            " corrections, note, visits_through, confirmed_at, confirmed_by)"
            " VALUES (:day, :kind, :key, :zero, :late, CAST(:figures AS jsonb),"
            " CAST(:fixes AS jsonb), :note, :through, :at, :by) RETURNING id"
        ),
        {"day": day, "kind": unit.kind, "key": unit.key, "zero": zero, "late": late,
         "figures": _json(figures[(unit.kind, unit.key)]), "fixes": _json(fixes),
         "note": text_note, "through": through, "at": now, "by": actor},
    ).scalar_one()  # fmt: skip
    return {"id": int(report_id), **report_of(conn, unit, day)}


def amend(
    conn: Connection,
    unit: Unit,
    day: date,
    now: datetime,
    *,
    actor: str,
    note: str | None = None,
    corrections: dict[str, Any] | None = None,
    take_in: bool = False,
) -> dict[str, Any]:
    """Change a confirmed report: corrections (merged over the earlier ones), a new note, or
    `take_in` (the visits of the day that arrived since, taken into the figures)."""
    who = f"{unit.label} on {day.isoformat()}"
    fixes = corrections_from(corrections or {}, who)
    text_note = _note(note, who)
    if not fixes and text_note is None and not take_in:
        raise RecordRefused(f"{who}: an amendment changes something (corrections, note, take in)")
    row = conn.execute(
        text(
            "SELECT * FROM daily_reports WHERE day = :d AND unit_kind = :k AND unit_key = :u"
            " FOR UPDATE"
        ),
        {"d": day, "k": unit.kind, "u": unit.key},
    ).first()
    if row is None:
        raise RecordRefused(f"{who}: no report to amend (confirm it first: wangge daily report)")
    figures = dict(row.figures)
    through = int(row.visits_through)
    if take_in:
        through = last_visit_id(conn)
        figures = unit_figures(conn, day, now, [unit], upto={(unit.kind, unit.key): through})[
            (unit.kind, unit.key)
        ]
    merged = {**dict(row.corrections), **fixes}
    conn.execute(
        text(
            "UPDATE daily_reports SET figures = CAST(:figures AS jsonb),"
            " corrections = CAST(:fixes AS jsonb), note = coalesce(:note, note),"
            " visits_through = :through, amendments = amendments + 1, amended_at = :at,"
            " zero = zero AND CAST(:fixes AS jsonb) = '{}'::jsonb WHERE id = :id"
        ),
        {"figures": _json(figures), "fixes": _json(merged), "note": text_note,
         "through": through, "at": now, "id": row.id},
    )  # fmt: skip
    conn.execute(
        text(
            "INSERT INTO daily_amendments (report_id, at, by, corrections, figures, took_in, note)"
            " VALUES (:r, :at, :by, CAST(:fixes AS jsonb), CAST(:figures AS jsonb), :took, :note)"
        ),
        {"r": row.id, "at": now, "by": actor, "fixes": _json(fixes),
         "figures": _json({**figures, **merged}), "took": take_in, "note": text_note},
    )  # fmt: skip
    return {"id": int(row.id), **report_of(conn, unit, day)}


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def status_of(row: Any | None) -> str:
    if row is None:
        return MISSING
    if row.late:
        return LATE
    return ZERO if row.zero else REPORTED


def _entry(conn: Connection, unit: Unit, row: Any | None, live: dict[str, int]) -> dict[str, Any]:
    entry: dict[str, Any] = {"unit": unit.key, "kind": unit.kind, "status": status_of(row)}
    if row is None:
        entry["figures"] = live
        entry |= {"name": unit.name, "village": unit.village}
        return entry
    zone = town_timezone(conn)
    entry["figures"] = {**dict(row.figures), **dict(row.corrections)}
    entry |= {
        "name": unit.name,
        "village": unit.village,
        "computed": dict(row.figures),
        "corrections": dict(row.corrections),
        "note": row.note,
        "confirmed_at": row.confirmed_at.astimezone(zone).isoformat(),
        "amendments": int(row.amendments),
    }
    return entry


def report_of(conn: Connection, unit: Unit, day: date) -> dict[str, Any]:
    """One unit's entry as `reports` gives it (its report must exist)."""
    row = _reports_of(conn, day)[(unit.kind, unit.key)]
    return _entry(conn, unit, row, {})


def reports(
    conn: Connection, day: date, now: datetime, *, grid_ids: frozenset[int] | None = None
) -> dict[str, Any]:
    """`{"expected", "reported", "on_time", "units"}` of a day (only the units whose grids
    are all in `grid_ids` when given), with `date`, `reporting_rate` and `timeliness`. A
    missing unit shows its figures as the records say now; a reported one its confirmed
    figures with their corrections."""
    units = [
        u
        for u in expected_units(conn, day)
        if grid_ids is None or (u.grid_ids and grid_ids.issuperset(u.grid_ids))
    ]
    stored = _reports_of(conn, day)
    missing = [u for u in units if (u.kind, u.key) not in stored]
    live = unit_figures(conn, day, now, missing) if missing else {}
    entries = [
        _entry(conn, u, stored.get((u.kind, u.key)), live.get((u.kind, u.key), {})) for u in units
    ]
    expected = len(entries)
    reported = sum(1 for e in entries if e["status"] != MISSING)
    on_time = sum(1 for e in entries if e["status"] in (ZERO, REPORTED))
    return {
        "date": day.isoformat(),
        "expected": expected,
        "reported": reported,
        "on_time": on_time,
        "reporting_rate": round(reported / expected, 4) if expected else None,
        "timeliness": round(on_time / expected, 4) if expected else None,
        "units": entries,
    }


def freeze(conn: Connection, day: date, now: datetime) -> int:
    """Mark the day's confirmed reports frozen (their figures are stored already); the
    number newly frozen."""
    return int(
        conn.execute(
            text("UPDATE daily_reports SET frozen_at = :at WHERE day = :d AND frozen_at IS NULL"),
            {"d": day, "at": now},
        ).rowcount
    )
