"""The 18:00 summary (汇总) of a town day: the town's figures (the sum of its grids, which
part the households), a table per village, the last
14 days of screened share, people in quarantine, new fever cases and missed checks, the
units that did not report, and a map snapshot (the grids coloured by the share screened).

The figures are those of the 16:00 reports (`geodata.records.daily_reports.reports`: a
reported unit's confirmed figures with its corrections, a missing one's as the records
say). The summary is frozen the first time it is asked for at or after the town's
`summary_time` on its day or later (`daily_summaries`, migration 0019): it is never
computed again, and amendments made after it was issued are listed beside it.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, text

from geodata.records import daily_reports as reports
from geodata.records.town_settings import town_timezone

SERIES_DAYS = 14
SHARE_CLASSES = ((0.2, "#d7191c"), (0.4, "#fdae61"), (0.6, "#ffffbf"), (0.8, "#a6d96a"))
TOP_CLASS = "#1a9641"
SERIES = ("screened_share", "in_quarantine", "fever", "missed_checks")
VILLAGE_FIGURES = ("households", *reports.FIGURES)


def _households(conn: Connection) -> tuple[dict[str, int], dict[str, int]]:
    """Households per village code and per grid code."""
    rows = conn.execute(
        text(
            "SELECT v.code AS village, g.code AS grid, count(h.id) AS n FROM grids g"
            " JOIN villages v ON v.id = g.village_id LEFT JOIN households h ON h.grid_id = g.id"
            " GROUP BY v.code, g.code"
        )
    ).all()
    villages: dict[str, int] = {}
    for r in rows:
        villages[str(r.village)] = villages.get(str(r.village), 0) + int(r.n)
    return villages, {str(r.grid): int(r.n) for r in rows}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _town(villages: list[dict[str, Any]]) -> dict[str, Any]:
    town: dict[str, Any] = {f: sum(int(v[f]) for v in villages) for f in VILLAGE_FIGURES}
    town["screened_share"] = _share(town["households_seen"], town["households"])
    return town


def _day_town(
    conn: Connection, day: date, now: datetime, households: dict[str, int]
) -> dict[str, Any]:
    """The town's figures of one day, from its frozen summary when there is one."""
    stored = conn.execute(
        text("SELECT body FROM daily_summaries WHERE day = :d"), {"d": day}
    ).scalar()
    if stored is not None:
        body = stored if isinstance(stored, dict) else orjson.loads(stored)
        return dict(body["town"])
    units = [u for u in reports.expected_units(conn, day) if u.kind == "grid"]
    figures = reports.unit_figures(conn, day, now, units)
    rows = [{"households": households.get(u.key, 0), **figures[(u.kind, u.key)]} for u in units]
    return _town(rows)


def _colour(share: float | None) -> str:
    if share is None:
        return "#d9d9d9"
    return next((c for upper, c in SHARE_CLASSES if share < upper), TOP_CLASS)


def _snapshot(conn: Connection, shares: dict[str, float | None]) -> str:
    """An SVG of the grids, each filled by its class of share screened (a map snapshot)."""
    box = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom) AS e FROM grids) t"
        )
    ).one()
    if box[0] is None:
        return ""
    west, south, east, north = (float(v) for v in box)
    paths = conn.execute(
        text("SELECT code, ST_AsSVG(geom, 0, 6) AS d FROM grids ORDER BY code")
    ).all()
    shapes = "".join(
        f'<path d="{p.d}" fill="{_colour(shares.get(str(p.code)))}" stroke="#555" '
        'stroke-width="0.0002"/>'
        for p in paths
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{west} {-north} {east - west} '
        f'{north - south}" width="480" height="{480 * (north - south) / (east - west):.0f}">'
        f"{shapes}</svg>"
    )


def compute(conn: Connection, day: date, now: datetime) -> dict[str, Any]:
    """The summary of `day` as the records and reports say at `now`."""
    day_reports = reports.reports(conn, day, now)
    households, grid_households = _households(conn)
    villages = []
    grids = []
    grid_shares: dict[str, float | None] = {}
    missing = []
    for unit in day_reports["units"]:
        figures = {f: int(unit["figures"].get(f, 0)) for f in reports.FIGURES}
        if unit["kind"] == "village":
            row = {"village": unit["unit"], "name": unit["name"],
                   "households": households.get(unit["unit"], 0), **figures}  # fmt: skip
            row["screened_share"] = _share(row["households_seen"], row["households"])
            row["status"] = unit["status"]
            villages.append(row)
        elif unit["kind"] == "grid":
            grids.append({"households": grid_households.get(unit["unit"], 0), **figures})
            grid_shares[unit["unit"]] = _share(
                figures["households_seen"], grid_households.get(unit["unit"], 0)
            )
        if unit["status"] == reports.MISSING:
            missing.append({"unit": unit["unit"], "kind": unit["kind"], "name": unit["name"]})
    series = []
    for back in range(SERIES_DAYS - 1, -1, -1):
        d = day - timedelta(days=back)
        town = _town(grids) if d == day else _day_town(conn, d, now, grid_households)
        series.append({"date": d.isoformat(), **{k: town.get(k) for k in SERIES}})
    return {
        "date": day.isoformat(),
        "town": _town(grids),
        "villages": villages,
        "series": series,
        "not_reported": missing,
        "reporting": {k: day_reports[k] for k in ("expected", "reported", "on_time")},
        "map_svg": _snapshot(conn, grid_shares),
    }


def summary(conn: Connection, day: date, now: datetime) -> dict[str, Any]:
    """The day's summary: frozen (and stored) once its summary time has passed, else live.
    A frozen one carries `issued_at` and the amendments made since."""
    zone = town_timezone(conn)
    stored = conn.execute(
        text("SELECT issued_at, body FROM daily_summaries WHERE day = :d"), {"d": day}
    ).first()
    if stored is None and now >= reports.clock_time(conn, day, "summary_time"):
        conn.execute(
            text(
                "INSERT INTO daily_summaries (day, issued_at, body)"
                " VALUES (:d, :at, CAST(:b AS jsonb)) ON CONFLICT (day) DO NOTHING"
            ),
            {"d": day, "at": now, "b": orjson.dumps(compute(conn, day, now)).decode()},
        )
        stored = conn.execute(
            text("SELECT issued_at, body FROM daily_summaries WHERE day = :d"), {"d": day}
        ).first()
    if stored is None:
        return {**compute(conn, day, now), "frozen": False, "issued_at": None, "amendments": []}
    body = stored.body if isinstance(stored.body, dict) else orjson.loads(stored.body)
    amendments = conn.execute(
        text(
            "SELECT r.unit_kind, r.unit_key, a.at, a.by, a.corrections FROM daily_amendments a"
            " JOIN daily_reports r ON r.id = a.report_id"
            " WHERE r.day = :d AND a.at > :issued ORDER BY a.at, a.id"
        ),
        {"d": day, "issued": stored.issued_at},
    ).all()
    return {
        **body,
        "frozen": True,
        "issued_at": stored.issued_at.astimezone(zone).isoformat(),
        "amendments": [
            {
                "unit": a.unit_key,
                "kind": a.unit_kind,
                "at": a.at.astimezone(zone).isoformat(),
                "by": a.by,
                "corrections": dict(a.corrections),
            }
            for a in amendments
        ],
    }


def as_csv(body: dict[str, Any]) -> str:
    """The town and the per-village table with the same numbers as the summary."""
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ["village", "name", *VILLAGE_FIGURES, "screened_share", "status"]
    writer.writerow(columns)
    for row in body["villages"]:
        writer.writerow([row.get(c) for c in columns])
    town = body["town"]
    writer.writerow(["town", "", *[town.get(c) for c in VILLAGE_FIGURES],
                     town.get("screened_share"), ""])  # fmt: skip
    return out.getvalue()
