"""Coverage figures against plain shapely/numpy computations: reach, screening, closure,
staffing and leaks."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection

from geodata.analysis.coverage import FIGURES, coverage_report
from geodata.analysis.coverage.metric import project_geoms, project_xy, utm_epsg
from geodata.analysis.coverage.network import RoadNetwork, network_margin_m
from geodata.analysis.coverage.reach import checkpoint_radii_m, straight_reached
from geodata.records.coverage_inputs import fetch_inputs
from tests import conftest
from tests.geodata.analysis.coverage_support import (
    SUZHOU,
    _by_grid,
    _counts,
    _rows,
    _transformer,
)


# -- reach ---------------------------------------------------------------------
def _sample_points(conn: Connection) -> tuple[list[Any], np.ndarray, list[Any], np.ndarray]:
    """Households (id, grid) with their building centroids, checkpoints with radii, in UTM."""
    hh = _rows(
        conn,
        "SELECT h.id, g.code, ST_AsBinary(b.geom) FROM households h"
        " JOIN grids g ON g.id = h.grid_id JOIN buildings b ON b.id = h.building_id ORDER BY h.id",
    )
    cps = _rows(
        conn,
        "SELECT id, radius_m, ST_X(geom), ST_Y(geom) FROM checkpoints WHERE state = 'active'",
    )
    lon, lat = shapely.get_coordinates(
        shapely.centroid(shapely.from_wkb([bytes(r[2]) for r in hh]))
    ).T
    epsg = utm_epsg(float(np.mean(lon)), float(np.mean(lat)))
    assert epsg == 32632  # Liechtenstein lies in UTM zone 32 north
    t = _transformer(epsg)
    hh_xy = np.column_stack(t.transform(lon, lat))
    cp_xy = np.column_stack(t.transform([r[2] for r in cps], [r[3] for r in cps]))
    return hh, hh_xy, cps, cp_xy


def _missing(value: object) -> bool:
    return bool(pd.isna(value))  # type: ignore[call-overload]


def _same(a: object, b: object) -> bool:
    return bool(not pd.isna(a) and a == b)  # type: ignore[call-overload]


def _distances(a_xy: Any, b_xy: Any) -> NDArray[np.float64]:
    """Every pairwise distance, with plain shapely."""
    a = np.asarray(shapely.points(a_xy), dtype=object)
    b = np.asarray(shapely.points(b_xy), dtype=object)
    return np.asarray(shapely.distance(a[:, None], b[None, :]), dtype=np.float64)


def test_reach_equals_shapely_distances(
    sample_db: conftest.TestDatabase, report: dict[str, Any], moment: datetime
) -> None:
    with sample_db.owner.connect() as conn:
        hh, hh_xy, cps, cp_xy = _sample_points(conn)
        inputs = fetch_inputs(conn, as_of=moment)
    radii = np.array([r[1] for r in cps])
    dist = _distances(hh_xy, cp_xy)
    reached = np.asarray((dist <= radii[None, :]).any(axis=1), dtype=bool)
    assert 0 < reached.sum() < len(hh)
    expected = _counts([(r[1], bool(f)) for r, f in zip(hh, reached, strict=True)])
    assert _by_grid(report, "reached") == expected
    assert report["town"]["reached"] == int(reached.sum())
    assert report["town"]["households"] == len(hh)
    unreached = sorted(r[0] for r, f in zip(hh, reached, strict=True) if not f)
    assert [h["id"] for h in report["items"]["unreached_households"]] == unreached
    # One radius for all checkpoints (--radius-m).
    fixed = coverage_report(inputs, radius_m=300.0, level="town")
    assert fixed["town"]["reached"] == int((dist <= 300.0).any(axis=1).sum())
    assert fixed["radius_m"] == 300.0


def test_villages_and_town_sum_their_grids(report: dict[str, Any]) -> None:
    for key in FIGURES:
        assert report["town"][key] == sum(g[key] for g in report["grids"])
        assert report["town"][key] == sum(v[key] for v in report["villages"])
    for village in report["villages"]:
        grids = [g for g in report["grids"] if g["village"] == village["code"]]
        assert village["households"] == sum(g["households"] for g in grids)


def test_network_reach_is_never_shorter_than_straight(
    sample_db: conftest.TestDatabase, moment: datetime
) -> None:
    with sample_db.owner.connect() as conn:
        _, hh_xy, cps, cp_xy = _sample_points(conn)
        inputs = fetch_inputs(conn, as_of=moment)
    roads = RoadNetwork.from_lines(project_geoms(inputs.roads["geometry"].to_numpy(object), 32632))
    assert roads.graph.number_of_edges() > 1000
    radii = np.array([r[1] for r in cps])
    along = network_margin_m(roads, hh_xy, cp_xy, radii)
    dist = _distances(hh_xy, cp_xy)
    straight = (dist - radii[None, :]).min(axis=1)
    finite = np.isfinite(along)
    assert finite.sum() > 100
    assert np.all(along[finite] >= straight[finite] - 1e-6)
    # Same radius everywhere: the margin is the route length less the radius.
    routes = network_margin_m(roads, hh_xy, cp_xy, np.full(len(cps), 2000.0)) + 2000.0
    ok = np.isfinite(routes)
    assert np.all(routes[ok] >= dist.min(axis=1)[ok] - 1e-6)
    by_road = coverage_report(inputs, network=True, level="town")["town"]["reached"]
    by_air = coverage_report(inputs, level="town")["town"]["reached"]
    assert 0 < by_road < by_air


def test_reach_on_suzhou_buildings_equals_shapely() -> None:
    buildings = gpd.read_file(SUZHOU)
    # Centroids of the footprints in longitude/latitude, as PostGIS ST_Centroid takes them.
    lonlat = shapely.get_coordinates(shapely.centroid(buildings.geometry.to_numpy()))
    epsg = utm_epsg(*np.mean(lonlat, axis=0))
    assert epsg == 32651  # Suzhou, UTM zone 51 north
    xy = project_xy(lonlat[:, 0], lonlat[:, 1], epsg)
    rng = np.random.default_rng(7)
    cp_xy = xy[rng.choice(len(xy), 5, replace=False)] + rng.normal(0, 50, (5, 2))
    radii = np.array([150.0, 200.0, 250.0, 300.0, 400.0])
    ours = straight_reached(xy, cp_xy, radii)
    # Independently: geopandas to_crs and shapely dwithin, one checkpoint at a time.
    points = gpd.GeoSeries(shapely.points(lonlat), crs=4326).to_crs(epsg).to_numpy()
    expected = np.zeros(len(points), dtype=bool)
    for (x, y), r in zip(cp_xy, radii, strict=True):
        expected |= shapely.dwithin(points, shapely.Point(x, y), r)
    assert 0 < expected.sum() < len(points)
    assert np.array_equal(ours, expected)
    same = straight_reached(xy, cp_xy, checkpoint_radii_m(radii, radius_m=250.0))
    for_all = np.zeros(len(points), dtype=bool)
    for x, y in cp_xy:
        for_all |= shapely.dwithin(points, shapely.Point(x, y), 250.0)
    assert np.array_equal(same, for_all)


# -- screening -----------------------------------------------------------------
def test_screening_equals_visits(
    sample_db: conftest.TestDatabase, report: dict[str, Any], moment: datetime
) -> None:
    with sample_db.owner.connect() as conn:
        hh = _rows(conn, "SELECT h.id, g.code FROM households h JOIN grids g ON g.id = h.grid_id")
        visits = _rows(conn, "SELECT household_id, visited_at FROM visits")
        buildings = _rows(
            conn, "SELECT b.id, g.code FROM buildings b JOIN grids g ON g.id = b.grid_id"
        )
        housed = {r[0] for r in _rows(conn, "SELECT building_id FROM households")}
    seen: dict[int, list[datetime]] = defaultdict(list)
    for household, at in visits:
        if at <= moment:
            seen[household].append(at)
    recent = [(g, any(at > moment - timedelta(hours=24) for at in seen[h])) for h, g in hh]
    never = [(g, not seen[h]) for h, g in hh]
    assert _by_grid(report, "screened_24h") == _counts(recent)
    assert _by_grid(report, "never_visited") == _counts(never)
    assert report["town"]["screened_24h"] > 0
    assert [h["id"] for h in report["items"]["never_visited"]] == sorted(
        h for h, g in hh if not seen[h]
    )
    residential = {g for _, g in hh}
    gaps = [(g, g in residential and b not in housed) for b, g in buildings]
    assert _by_grid(report, "buildings_without_households") == _counts(gaps)
    assert {b["id"] for b in report["items"]["buildings_without_households"]} == {
        b for b, g in buildings if g in residential and b not in housed
    }


# -- closure, staffing, leaks ----------------------------------------------------
def test_compound_closure_equals_entrance_counts(
    sample_db: conftest.TestDatabase, report: dict[str, Any]
) -> None:
    with sample_db.owner.connect() as conn:
        compounds = [r[0] for r in _rows(conn, "SELECT id FROM compounds")]
        entrances = _rows(conn, "SELECT compound_id, state FROM entrances")
    open_count = dict.fromkeys(compounds, 0)
    for compound, state in entrances:
        if compound is not None and state in ("open", "checkpoint"):
            open_count[compound] += 1
    town = report["town"]
    assert town["compounds"] == len(compounds)
    assert town["compounds_compliant"] == sum(n == 1 for n in open_count.values())
    assert town["compounds_no_open_entrance"] == sum(n == 0 for n in open_count.values())
    assert town["compounds_breach"] == sum(n >= 2 for n in open_count.values())
    assert {c["id"] for c in report["items"]["compounds_breach"]} == {
        c for c, n in open_count.items() if n >= 2
    }
    assert {c["id"] for c in report["items"]["compounds_no_open_entrance"]} == {
        c for c, n in open_count.items() if n == 0
    }


def _covered_hours(shifts: list[tuple[datetime, datetime]], start: datetime) -> int:
    """Hours of the 24 from `start` covered by the union of the shifts, merged one by one."""
    merged: list[list[datetime]] = []
    for a, b in sorted(shifts):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    hours = 0
    for h in range(24):
        lo, hi = start + timedelta(hours=h), start + timedelta(hours=h + 1)
        hours += any(a <= lo and hi <= b for a, b in merged)
    return hours


def test_staffing_equals_shift_coverage(
    sample_db: conftest.TestDatabase, report: dict[str, Any], moment: datetime
) -> None:
    start = moment.replace(minute=0, second=0, microsecond=0)
    with sample_db.owner.connect() as conn:
        cps = _rows(conn, "SELECT id, staff_per_shift FROM checkpoints WHERE state = 'active'")
        shifts = _rows(
            conn, "SELECT checkpoint_id, starts_at, ends_at, staff_count FROM checkpoint_shifts"
        )
    hours = {}
    for cp, required in cps:
        enough = [(a, b) for c, a, b, n in shifts if c == cp and n >= required]
        hours[cp] = _covered_hours(enough, start)
    assert report["town"]["checkpoints"] == len(cps)
    assert report["town"]["checkpoints_fully_staffed"] == sum(h == 24 for h in hours.values())
    assert 0 < report["town"]["checkpoints_fully_staffed"] < len(cps)
    listed = {c["id"]: c["staffed_hours"] for c in report["items"]["checkpoints_understaffed"]}
    assert listed == {c: h for c, h in hours.items() if h < 24}


def test_leaks_equal_a_feature_by_feature_computation(
    sample_db: conftest.TestDatabase, report: dict[str, Any], moment: datetime
) -> None:
    with sample_db.owner.connect() as conn:
        inputs = fetch_inputs(conn, as_of=moment)
    t = _transformer(32632)

    def metric(g: Any) -> Any:
        return shapely.transform(g, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))

    en = inputs.entrances
    cps = inputs.checkpoints
    cp_pts = [shapely.Point(t.transform(x, y)) for x, y in zip(cps.lon, cps.lat, strict=True)]
    on_duty = set(
        inputs.shifts.loc[
            (inputs.shifts.starts_s <= moment.timestamp())
            & (inputs.shifts.ends_s > moment.timestamp())
        ]
        .merge(cps[["id", "staff_per_shift"]], left_on="checkpoint_id", right_on="id")
        .query("staff_count >= staff_per_shift")["checkpoint_id"]
    )
    closing = []
    for e in en.itertuples():
        if _missing(e.village_id):  # compound entrances close no village crossing
            continue
        p = shapely.Point(t.transform(e.lon, e.lat))
        staffed = any(
            c.id in on_duty and c.active and (_same(c.entrance_id, e.id) or p.distance(q) <= 30.0)
            for c, q in zip(cps.itertuples(), cp_pts, strict=True)
        )
        if e.state == "sealed" or (e.state in ("open", "checkpoint") and staffed):
            closing.append((int(float(str(e.village_id))), p))
    leaks = 0
    for v in inputs.villages.itertuples():
        ring = metric(v.geometry).boundary
        seen: set[tuple[int, int]] = set()
        for r in inputs.roads.sort_values("id").itertuples():
            road = metric(r.geometry)
            if not road.intersects(ring):
                continue
            for part in shapely.get_parts(road.intersection(ring)):
                if part.geom_type != "Point":
                    continue
                key = (round(part.x), round(part.y))
                if key in seen:
                    continue
                seen.add(key)
                if not any(vid == v.id and part.distance(p) <= 50.0 for vid, p in closing):
                    leaks += 1
    assert leaks > 0
    assert report["town"]["leaks"] == leaks == len(report["items"]["leaks"])
    assert all(item["highway"] for item in report["items"]["leaks"])
