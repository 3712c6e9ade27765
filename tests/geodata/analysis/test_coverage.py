"""Coverage figures against plain shapely/numpy computations, as-of replay, CLI and API scope."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from flask import Flask
from numpy.typing import NDArray
from pyproj import Transformer
from sqlalchemy import Connection, text

from geodata.analysis.coverage import FIGURES, coverage_report
from geodata.analysis.coverage.metric import project_geoms, project_xy, utm_epsg
from geodata.analysis.coverage.network import RoadNetwork, network_margin_m
from geodata.analysis.coverage.reach import checkpoint_radii_m, straight_reached
from geodata.cli import main
from geodata.records.coverage_inputs import fetch_inputs
from tests import conftest
from tests.shared_data import SUZHOU_BUILDINGS

SUZHOU = SUZHOU_BUILDINGS
ITEM_KINDS = {
    "unreached_households",
    "never_visited",
    "buildings_without_households",
    "compounds_breach",
    "compounds_no_open_entrance",
    "leaks",
    "checkpoints_understaffed",
}


def _rows(conn: Connection, query: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(query), params).all())


@pytest.fixture(scope="module")
def moment(sample_db: conftest.TestDatabase) -> datetime:
    """A moment inside the sample's visits and shifts: everything has something to count."""
    with sample_db.owner.connect() as conn:
        last_visit = conn.execute(text("SELECT max(visited_at) FROM visits")).scalar_one()
    moment: datetime = last_visit - timedelta(hours=30)
    return moment


@pytest.fixture(scope="module")
def report(sample_db: conftest.TestDatabase, moment: datetime) -> dict[str, Any]:
    with sample_db.owner.connect() as conn:
        inputs = fetch_inputs(conn, as_of=moment)
    return coverage_report(inputs, with_items=True)


def _by_grid(report: dict[str, Any], key: str) -> dict[str, int]:
    return {g["code"]: g[key] for g in report["grids"] if g[key]}


def _counts(pairs: list[tuple[str, bool]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for grid, flag in pairs:
        if flag:
            out[grid] += 1
    return dict(out)


def _transformer(epsg: int) -> Transformer:
    return Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)


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


# -- patrols ----------------------------------------------------------------------
PATROL_KEYS = {
    "households",
    "households_covered",
    "households_covered_pct",
    "road_km",
    "road_km_covered",
    "road_km_covered_pct",
}


def test_patrol_shares_equal_a_shapely_computation(
    sample_conn: Connection, moment: datetime
) -> None:
    """Households and road length inside a teamed patrol zone, day and night, per grid and
    for the town; one night zone loses its team and so patrols nothing."""
    unteamed = sample_conn.execute(
        text(
            "UPDATE patrol_zones AS z SET team_id = NULL FROM villages AS v"
            " WHERE v.id = z.village_id AND z.id = (SELECT min(id) FROM patrol_zones"
            " WHERE period = 'night') RETURNING z.id, z.name, v.code"
        )
    ).one()
    report = coverage_report(fetch_inputs(sample_conn, as_of=moment), with_items=True)
    t = _transformer(32632)

    def metric(wkb: Any) -> Any:
        g = shapely.from_wkb(bytes(wkb))
        return shapely.transform(g, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))

    grids = {
        code: metric(wkb)
        for code, wkb in _rows(sample_conn, "SELECT code, ST_AsBinary(geom) FROM grids")
    }
    zones = {
        period: shapely.union_all(
            [
                metric(wkb)
                for (wkb,) in _rows(
                    sample_conn,
                    "SELECT ST_AsBinary(geom) FROM patrol_zones"
                    " WHERE period = :p AND team_id IS NOT NULL",
                    p=period,
                )
            ]
        )
        for period in ("day", "night")
    }
    households = _rows(
        sample_conn,
        "SELECT g.code, ST_AsBinary(ST_Centroid(b.geom)) FROM households h"
        " JOIN grids g ON g.id = h.grid_id LEFT JOIN buildings b ON b.id = h.building_id",
    )
    roads = [metric(wkb) for (wkb,) in _rows(sample_conn, "SELECT ST_AsBinary(geom) FROM roads")]
    expected: dict[str, dict[str, dict[str, float]]] = {}
    for code, grid in grids.items():
        mine = [metric(wkb) for c, wkb in households if c == code and wkb is not None]
        in_grid = [r.intersection(grid) for r in roads if r.intersects(grid)]
        expected[code] = {
            period: {
                "households": sum(1 for c, _ in households if c == code),
                "households_covered": sum(1 for p in mine if zones[period].contains(p)),
                "road_km": sum(piece.length for piece in in_grid) / 1000,
                "road_km_covered": sum(
                    piece.intersection(zones[period]).length for piece in in_grid
                )
                / 1000,
            }
            for period in ("day", "night")
        }

    patrol = report["patrol"]
    assert patrol["zones_without_team"] == 1
    assert patrol["zones_without_team_items"] == [
        {"id": unteamed.id, "name": unteamed.name, "period": "night", "village": unteamed.code}
    ]
    assert [g["code"] for g in patrol["grids"]] == [g["code"] for g in report["grids"]]
    for entry in patrol["grids"]:
        for period in ("day", "night"):
            got, want = entry[period], expected[entry["code"]][period]
            assert set(got) == PATROL_KEYS
            assert got["households"] == want["households"], entry["code"]
            assert got["households_covered"] == want["households_covered"], entry["code"]
            assert got["road_km"] == pytest.approx(want["road_km"], abs=1e-3)
            assert got["road_km_covered"] == pytest.approx(want["road_km_covered"], abs=1e-3)
    for period in ("day", "night"):
        town = patrol[period]
        total = sum(e[period]["households"] for e in expected.values())
        covered = sum(e[period]["households_covered"] for e in expected.values())
        road_km = sum(e[period]["road_km"] for e in expected.values())
        road_covered = sum(e[period]["road_km_covered"] for e in expected.values())
        assert town["households"] == total == report["town"]["households"]
        assert town["households_covered"] == covered
        assert town["households_covered_pct"] == pytest.approx(100 * covered / total, abs=0.01)
        assert town["road_km"] == pytest.approx(road_km, abs=0.01)
        assert town["road_km_covered_pct"] == pytest.approx(100 * road_covered / road_km, abs=0.01)
    # The day zone is the whole village; the night zone only the settled part, and one of
    # the night zones has no team.
    assert patrol["day"]["households_covered_pct"] > patrol["night"]["households_covered_pct"]
    assert 0 < patrol["night"]["road_km_covered_pct"] < patrol["day"]["road_km_covered_pct"]


def test_patrol_figures_in_a_grid_workers_scope(sample_conn: Connection, moment: datetime) -> None:
    """Scoped to one grid, the town's patrol figures are that grid's."""
    grid_id, village_id = sample_conn.execute(
        text(
            "SELECT g.id, g.village_id FROM grids g WHERE EXISTS"
            " (SELECT 1 FROM households h WHERE h.grid_id = g.id) ORDER BY g.code LIMIT 1"
        )
    ).one()
    sample_conn.execute(
        text("UPDATE patrol_zones SET team_id = NULL WHERE village_id <> :v"), {"v": village_id}
    )
    scoped = coverage_report(
        fetch_inputs(sample_conn, as_of=moment, grid_ids=frozenset({grid_id}))
    )["patrol"]
    assert len(scoped["grids"]) == 1
    assert scoped["zones_without_team"] == 0  # the other villages' zones are not in scope
    for period in ("day", "night"):
        assert scoped[period] == scoped["grids"][0][period]
    assert scoped["day"]["households_covered_pct"] == 100.0


# -- as of a past moment ---------------------------------------------------------
def test_as_of_replays_entrance_events(sample_conn: Connection) -> None:
    compound, entrance = sample_conn.execute(
        text(
            "SELECT e.compound_id, min(e.id) FROM entrances e"
            " WHERE e.state IN ('open', 'checkpoint') GROUP BY e.compound_id"
            " HAVING count(*) = 1 ORDER BY e.compound_id LIMIT 1"
        )
    ).one()
    changed = datetime.now(UTC) - timedelta(hours=1)
    before, after = changed - timedelta(minutes=1), changed + timedelta(minutes=1)
    original = coverage_report(fetch_inputs(sample_conn, as_of=before), with_items=True)
    sample_conn.execute(
        text(
            "INSERT INTO entrance_events (entrance_id, at, from_state, to_state, user_name)"
            " SELECT id, :at, state, 'sealed', 'test' FROM entrances WHERE id = :e"
        ),
        {"at": changed, "e": entrance},
    )
    sample_conn.execute(
        text("UPDATE entrances SET state = 'sealed', since = :at WHERE id = :e"),
        {"at": changed, "e": entrance},
    )
    replayed = coverage_report(fetch_inputs(sample_conn, as_of=before), with_items=True)
    assert replayed == original
    now = coverage_report(fetch_inputs(sample_conn, as_of=after), with_items=True)
    assert now["town"]["compounds_no_open_entrance"] == (
        original["town"]["compounds_no_open_entrance"] + 1
    )
    assert now["town"]["compounds_compliant"] == original["town"]["compounds_compliant"] - 1
    assert compound in {c["id"] for c in now["items"]["compounds_no_open_entrance"]}
    assert compound not in {c["id"] for c in original["items"]["compounds_no_open_entrance"]}


def test_as_of_replays_checkpoint_states(sample_conn: Connection) -> None:
    """A checkpoint closed now is active an hour ago; one made an hour ago is absent before."""
    closing, model = sample_conn.execute(
        text("SELECT min(id), max(id) FROM checkpoints WHERE state = 'active'")
    ).one()
    made = datetime.now(UTC) - timedelta(hours=1)
    before, after = made - timedelta(minutes=1), datetime.now(UTC) + timedelta(minutes=1)
    original = coverage_report(fetch_inputs(sample_conn, as_of=before), with_items=True)
    added = sample_conn.execute(
        text(
            "INSERT INTO checkpoints (source_id, name, kind, state, staff_per_shift, radius_m,"
            " village_id, geom, created_at) SELECT 'test:made', 'made', kind, 'active',"
            " staff_per_shift, radius_m, village_id, geom, :made FROM checkpoints WHERE id = :m"
            " RETURNING id"
        ),
        {"made": made, "m": model},
    ).scalar_one()
    sample_conn.execute(
        text("UPDATE checkpoints SET state = 'closed' WHERE id = :c"), {"c": closing}
    )

    def states(moment: datetime) -> dict[int, bool]:
        cps = fetch_inputs(sample_conn, as_of=moment).checkpoints
        return dict(zip(cps["id"].tolist(), cps["active"].tolist(), strict=True))

    then, now = states(before), states(after)
    assert then[closing] is True
    assert now[closing] is False
    assert added not in then
    assert now[added] is True
    assert set(now) == set(then) | {added}
    replayed = coverage_report(fetch_inputs(sample_conn, as_of=before), with_items=True)
    assert replayed == original


def test_as_of_counts_only_earlier_visits(sample_conn: Connection, moment: datetime) -> None:
    earlier = coverage_report(fetch_inputs(sample_conn, as_of=moment - timedelta(days=7)))
    later = coverage_report(fetch_inputs(sample_conn, as_of=moment))
    assert earlier["town"]["never_visited"] > later["town"]["never_visited"]
    assert earlier["as_of"] == (moment - timedelta(days=7)).isoformat()


# -- the command -----------------------------------------------------------------
def _cli(db: conftest.TestDatabase, *args: str) -> Any:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
    }
    result = CliRunner().invoke(main, ["coverage", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_cli_json_shape(
    throwaway_sample_db: conftest.TestDatabase, report: dict[str, Any], moment: datetime
) -> None:
    out = _cli(throwaway_sample_db, "--as-of", moment.isoformat(), "--list", "--format", "json")
    assert set(out) == {"as_of", "radius_m", "town", "villages", "grids", "patrol", "items"}
    assert list(out["town"]) == list(FIGURES)
    assert all(list(v) == ["code", "name", *FIGURES] for v in out["villages"])
    assert all({"code", "name", *FIGURES} <= set(g) for g in out["grids"])
    assert set(out["items"]) == ITEM_KINDS
    assert out["town"] == report["town"]
    assert out["radius_m"] is None
    household = out["items"]["never_visited"][0]
    assert set(household) == {"id", "grid", "building_id", "lon", "lat"}
    short = _cli(throwaway_sample_db, "--radius-m", "250", "--level", "village", "--format", "json")
    assert set(short) == {"as_of", "radius_m", "town", "villages", "grids", "patrol"}
    assert short["patrol"]["grids"] == []
    assert [v["code"] for v in short["patrol"]["villages"]] == [
        v["code"] for v in short["villages"]
    ]
    assert short["radius_m"] == 250.0
    assert short["grids"] == []
    assert short["villages"]
    town = _cli(throwaway_sample_db, "--as-of", "2020-01-31", "--level", "town", "--format", "json")
    assert town["villages"] == []
    assert town["as_of"].startswith("2020-01-31T23:59:59")


# -- the API ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def api(throwaway_sample_db: conftest.TestDatabase) -> tuple[Flask, dict[str, str], str]:
    """The app over the sample town in the module's own database, with a token per role."""
    database = throwaway_sample_db
    with database.owner.connect() as conn:
        my_grid = conn.execute(
            text(
                "SELECT g.code FROM grids g WHERE EXISTS (SELECT 1 FROM households h"
                " WHERE h.grid_id = g.id) ORDER BY g.code LIMIT 1"
            )
        ).scalar_one()
    accounts = {
        "commander": conftest.make_account(database, "cov-commander", "commander"),
        "planner": conftest.make_account(database, "cov-planner", "planner"),
        "grid_worker": conftest.make_account(
            database, "cov-worker", "grid_worker", grid_codes=(my_grid,)
        ),
    }
    from webapp import create_app

    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return app, {k: a.token for k, a in accounts.items()}, my_grid


def _get(app: Flask, token: str | None, query: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().get(f"/api/v1/coverage{query}", headers=headers)


def test_api_commander_sees_the_town(
    api: tuple[Flask, dict[str, str], str], report: dict[str, Any], moment: datetime
) -> None:
    app, tokens, _ = api
    answer = _get(
        app, tokens["commander"], f"?as_of={moment.isoformat()}&list=1".replace("+", "%2B")
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["town"] == report["town"]
    assert len(body["grids"]) == len(report["grids"])
    assert set(body["items"]) == ITEM_KINDS
    assert _get(app, tokens["planner"], "?level=town").status_code == 200


def test_api_grid_worker_sees_only_own_grid(
    api: tuple[Flask, dict[str, str], str], moment: datetime
) -> None:
    app, tokens, my_grid = api
    answer = _get(app, tokens["grid_worker"], f"?list=1&as_of={moment.date().isoformat()}")
    assert answer.status_code == 200
    body = answer.get_json()
    assert [g["code"] for g in body["grids"]] == [my_grid]
    assert len(body["villages"]) == 1
    mine = body["grids"][0]
    assert body["town"] == {k: mine[k] for k in FIGURES}
    assert body["villages"][0] == {"code": mine["village"], "name": body["villages"][0]["name"],
                                   **{k: mine[k] for k in FIGURES}}  # fmt: skip
    assert mine["households"] > 0
    for kind, items in body["items"].items():
        assert all(item["grid"] == my_grid for item in items), kind
    listed = {h["id"] for h in body["items"]["never_visited"]} | {
        h["id"] for h in body["items"]["unreached_households"]
    }
    assert listed  # something of the grid is listed, and only of it


def test_api_refuses_strangers_and_bad_input(api: tuple[Flask, dict[str, str], str]) -> None:
    app, tokens, _ = api
    assert _get(app, None).status_code == 401
    assert _get(app, "not-a-token").status_code == 401
    for bad in (
        "?radius_m=-1",
        "?radius_m=x",
        "?as_of=yesterday",
        "?level=planet",
        "?items=leaks,residents",
        "?items=,",
    ):
        assert _get(app, tokens["commander"], bad).status_code == 400, bad


def test_api_lists_only_the_items_asked_for(
    api: tuple[Flask, dict[str, str], str], report: dict[str, Any], moment: datetime
) -> None:
    app, tokens, _ = api
    at = moment.isoformat().replace("+", "%2B")
    leaks = _get(app, tokens["commander"], f"?level=town&items=leaks&as_of={at}")
    assert leaks.status_code == 200
    body = leaks.get_json()
    assert list(body["items"]) == ["leaks"]
    assert body["items"]["leaks"] == report["items"]["leaks"]
    assert body["town"] == report["town"]
    two = _get(app, tokens["commander"], f"?items=never_visited,%20leaks&list=1&as_of={at}")
    assert list(two.get_json()["items"]) == ["never_visited", "leaks"]
    assert "items" not in _get(app, tokens["commander"], "?level=town").get_json()


def test_cli_lists_only_the_items_asked_for(
    throwaway_sample_db: conftest.TestDatabase, moment: datetime
) -> None:
    out = _cli(throwaway_sample_db, "--level", "town", "--items", "leaks", "--format", "json")
    assert list(out["items"]) == ["leaks"]
    assert set(out["patrol"]) >= {"day", "night", "zones_without_team"}
