"""`wangge check` finds each kind of problem it names, and nothing on clean data."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from numpy.typing import NDArray
from shapely import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from geodata.records.topology import check_all, render_report, topology_only
from geodata.vocab import EntranceState
from tests import factories as f

UTM51 = pyproj.Transformer.from_crs(4326, 32651, always_xy=True)


def _to_utm(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    x, y = UTM51.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def area_m2(geom: BaseGeometry) -> float:
    """Independent area: shapely in UTM zone 51N."""
    return float(shapely.transform(geom, _to_utm).area)


def test_clean_town_has_no_problem(conn: Connection) -> None:
    vid = f.village(conn, "9900000201", f.square(0, 0, 1, 1))
    gid = f.grid(conn, vid, "990000020101", f.square(0, 0, 0.5, 1))
    f.grid(conn, vid, "990000020102", f.square(0.5, 0, 1, 1))
    bid = f.building(conn, "b1", f.square(0.1, 0.1, 0.12, 0.12), grid_id=gid)
    f.household(conn, "h1", bid, gid)
    cid = f.compound(conn, "c1", f.square(0.2, 0.2, 0.3, 0.3))
    f.entrance(conn, "e1", f.square(0.2, 0.2, 0.3, 0.3).exterior.interpolate(0.1, normalized=True),
               EntranceState.OPEN, compound_id=cid)  # fmt: skip
    report = topology_only(check_all(conn))
    assert report["ok"], render_report(report)


def test_each_planted_problem_is_found(conn: Connection) -> None:
    village_geom = f.square(0, 0, 1, 1)
    vid = f.village(conn, "9900000202", village_geom)
    a, b = f.square(0, 0, 0.5, 1), f.square(0.45, 0, 0.9, 1)
    ga = f.grid(conn, vid, "990000020201", a)
    f.grid(conn, vid, "990000020202", b)
    # A building in the uncovered strip, a household with no building.
    f.building(conn, "stray", f.square(0.95, 0.5, 0.96, 0.51))
    f.household(conn, "homeless", None, ga)
    # Compound 1: two open entrances; compound 2: none open; compound 3: one entrance 30 m off.
    c_geom = f.square(0.1, 0.1, 0.2, 0.2)
    ring = c_geom.exterior
    c1 = f.compound(conn, "two-open", c_geom)
    f.entrance(conn, "c1-a", ring.interpolate(0.1, normalized=True), EntranceState.OPEN,
               compound_id=c1)  # fmt: skip
    f.entrance(conn, "c1-b", ring.interpolate(0.6, normalized=True), EntranceState.CHECKPOINT,
               compound_id=c1)  # fmt: skip
    c2_geom = f.square(0.3, 0.1, 0.4, 0.2)
    c2 = f.compound(conn, "none-open", c2_geom)
    f.entrance(conn, "c2-a", c2_geom.exterior.interpolate(0.3, normalized=True),
               EntranceState.SEALED, compound_id=c2)  # fmt: skip
    c3_geom = f.square(0.5, 0.5, 0.6, 0.6)
    c3 = f.compound(conn, "off", c3_geom)
    lon, lat = c3_geom.centroid.x, c3_geom.bounds[3]
    f.entrance(conn, "c3-off", Point(lon, lat + 0.030 * f.KM_LAT), EntranceState.OPEN,
               compound_id=c3)  # fmt: skip

    report = check_all(conn)
    checks = report["checks"]
    assert not report["ok"]

    (overlap,) = checks["grid_overlaps"]["items"]
    assert overlap["area_m2"] == pytest.approx(area_m2(a.intersection(b)), rel=0.01)
    (gap,) = checks["grid_gaps"]["items"]
    assert gap["village"] == "9900000202"
    assert gap["area_m2"] == pytest.approx(area_m2(village_geom.difference(a.union(b))), rel=0.01)
    assert checks["grids_outside_village"]["count"] == 0
    assert checks["buildings_outside_grids"]["items"] == [{"building": "test:building/stray"}]
    assert checks["households_without_building"]["items"] == [
        {"household": "test:household/homeless"}
    ]
    (off,) = checks["entrances_off_boundary"]["items"]
    assert off["entrance"] == "test:entrance/c3-off"
    assert off["distance_m"] == pytest.approx(30, abs=1)
    assert [i["compound"] for i in checks["compounds_with_several_open_entrances"]["items"]] == [
        "test:compound/two-open"
    ]
    assert [i["compound"] for i in checks["compounds_without_open_entrance"]["items"]] == [
        "test:compound/none-open"
    ]
    assert topology_only(report)["problems"] == 7
    assert "grid_overlaps: 1" in render_report(report)


def test_grid_reaching_outside_its_village_is_found(conn: Connection) -> None:
    vid = f.village(conn, "9900000203", f.square(0, 0, 1, 1))
    f.grid(conn, vid, "990000020301", f.square(0, 0, 1.2, 1))
    (item,) = check_all(conn)["checks"]["grids_outside_village"]["items"]
    assert item["grid"] == "990000020301"
    assert item["area_m2"] == pytest.approx(area_m2(f.square(1, 0, 1.2, 1)), rel=0.01)
