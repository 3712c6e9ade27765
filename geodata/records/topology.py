"""Topology and rule checks of the town, pushed into PostGIS (`wangge check`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

ITEM_LIMIT = 100
"""Each check lists at most this many items; `count` is always the full number."""

AREA_TOLERANCE_M2 = 1.0
BOUNDARY_TOLERANCE_M = 5.0

CHECKS: dict[str, str] = {
    # Pairs of grids whose interiors overlap by more than the tolerance.
    "grid_overlaps": """
        SELECT a.code AS grid, b.code AS other_grid,
               round(ST_Area(ST_Intersection(a.geom, b.geom)::geography)::numeric, 1) AS area_m2
        FROM grids a
        JOIN grids b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)
        WHERE ST_Relate(a.geom, b.geom, '2********')
          AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > :area_tol
        ORDER BY a.code, b.code
    """,
    # Land of a village that no grid of it covers.
    "grid_gaps": """
        SELECT v.code AS village, round(ST_Area(gap::geography)::numeric, 1) AS area_m2
        FROM villages v
        CROSS JOIN LATERAL (
            SELECT ST_Difference(v.geom, coalesce(ST_Union(g.geom), 'POLYGON EMPTY'::geometry))
                   AS gap
            FROM grids g WHERE g.village_id = v.id
        ) u
        WHERE ST_Area(gap::geography) > :area_tol
        ORDER BY v.code
    """,
    # Grids reaching outside their own village.
    "grids_outside_village": """
        SELECT g.code AS grid, round(ST_Area(out::geography)::numeric, 1) AS area_m2
        FROM grids g
        JOIN villages v ON v.id = g.village_id
        CROSS JOIN LATERAL (SELECT ST_Difference(g.geom, v.geom) AS out) d
        WHERE NOT ST_CoveredBy(g.geom, v.geom) AND ST_Area(out::geography) > :area_tol
        ORDER BY g.code
    """,
    # Buildings whose footprint lies in no grid.
    "buildings_outside_grids": """
        SELECT b.source_id AS building
        FROM buildings b
        WHERE NOT EXISTS (
            SELECT 1 FROM grids g WHERE ST_Intersects(g.geom, ST_PointOnSurface(b.geom))
        )
        ORDER BY b.source_id
    """,
    # Entrances farther than the tolerance from their compound's or village's boundary.
    "entrances_off_boundary": """
        SELECT e.source_id AS entrance,
               CASE WHEN e.compound_id IS NOT NULL THEN 'compound' ELSE 'village' END AS owner,
               round(ST_Distance(e.geom::geography,
                                 ST_Boundary(coalesce(c.geom, v.geom))::geography)::numeric, 1)
                   AS distance_m
        FROM entrances e
        LEFT JOIN compounds c ON c.id = e.compound_id
        LEFT JOIN villages v ON v.id = e.village_id
        WHERE NOT ST_DWithin(e.geom::geography,
                             ST_Boundary(coalesce(c.geom, v.geom))::geography, :boundary_tol)
        ORDER BY e.source_id
    """,
    # Households registered without a building.
    "households_without_building": """
        SELECT h.source_id AS household FROM households h
        WHERE h.building_id IS NULL ORDER BY h.source_id
    """,
    # Compounds must keep exactly one entrance open (a gate checkpoint counts as open).
    "compounds_without_open_entrance": """
        SELECT c.source_id AS compound, count(e.id) AS entrances
        FROM compounds c LEFT JOIN entrances e ON e.compound_id = c.id
        GROUP BY c.id
        HAVING count(e.id) FILTER (WHERE e.state IN ('open', 'checkpoint')) = 0
        ORDER BY c.source_id
    """,
    "compounds_with_several_open_entrances": """
        SELECT c.source_id AS compound,
               count(e.id) FILTER (WHERE e.state IN ('open', 'checkpoint')) AS open_entrances
        FROM compounds c JOIN entrances e ON e.compound_id = c.id
        GROUP BY c.id
        HAVING count(e.id) FILTER (WHERE e.state IN ('open', 'checkpoint')) > 1
        ORDER BY c.source_id
    """,
}


def run_check(conn: Connection, name: str) -> dict[str, Any]:
    """One check: the number of problems and the first ITEM_LIMIT of them."""
    params = {"area_tol": AREA_TOLERANCE_M2, "boundary_tol": BOUNDARY_TOLERANCE_M}
    rows = conn.execute(text(CHECKS[name]), params).mappings().all()
    items = [{k: _plain(v) for k, v in row.items()} for row in rows[:ITEM_LIMIT]]
    return {"count": len(rows), "items": items}


def check_all(conn: Connection, *, at: datetime | None = None) -> dict[str, Any]:
    """Every check; `problems` is the total count and `ok` whether it is zero. The rules
    about people on duty (`records/duty_checks.py`) are evaluated at `at` (default now)."""
    from geodata.records.duty_checks import duty_checks

    moment = at if at is not None else datetime.now(UTC)
    checks = {name: run_check(conn, name) for name in CHECKS}
    checks.update(duty_checks(conn, moment, limit=ITEM_LIMIT))
    problems = sum(c["count"] for c in checks.values())
    return {"ok": problems == 0, "problems": problems, "at": moment.isoformat(), "checks": checks}


def topology_only(report: dict[str, Any]) -> dict[str, Any]:
    """The report's topology checks alone, without the duty rules (for a town whose shifts
    and people are not the point of the check)."""
    checks = {name: report["checks"][name] for name in CHECKS}
    problems = sum(c["count"] for c in checks.values())
    return {"ok": problems == 0, "problems": problems, "checks": checks}


def render_report(report: dict[str, Any]) -> str:
    """The report as lines a person reads."""
    lines = [f"{'OK' if report['ok'] else 'PROBLEMS'}: {report['problems']} problem(s)"]
    for name, check in report["checks"].items():
        lines.append(f"  {name}: {check['count']}")
        for item in check["items"][:10]:
            lines.append("    " + ", ".join(f"{k}={v}" for k, v in item.items()))
        if check["count"] > 10:
            lines.append(f"    ... and {check['count'] - 10} more")
    return "\n".join(lines)


def _plain(value: object) -> object:
    """Decimal and other SQL values as JSON-friendly Python values."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return float(str(value)) if hasattr(value, "as_tuple") else str(value)
