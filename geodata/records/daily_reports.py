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

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text

from geodata.records.daily_figures import (
    day_figures,
    last_visit_id,
    places,
    stored_reports,
    unit_figures,
)
from geodata.records.daily_units import (
    FIGURES,
    KINDS,
    Unit,
    clock_time,
    day_bounds,
    expected_units,
    find_unit,
)
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import town_timezone

MISSING, ZERO, REPORTED, LATE = "missing", "zero", "reported", "late"
MAX_FIGURE = 10_000_000
MAX_NOTE_CHARS = 2000

__all__ = [
    "FIGURES",
    "KINDS",
    "Unit",
    "amend",
    "clock_time",
    "confirm",
    "day_bounds",
    "day_figures",
    "expected_units",
    "find_unit",
    "last_visit_id",
    "places",
    "reports",
    "unit_figures",
]


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
    existing = stored_reports(conn, day).get((unit.kind, unit.key))
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
    row = stored_reports(conn, day)[(unit.kind, unit.key)]
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
    stored = stored_reports(conn, day)
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
