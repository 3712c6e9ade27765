"""The sample town: villages, buildings and grids (hierarchy, partition, counts), and
loading."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Connection, text

from geodata.db.stats import table_counts
from geodata.samples import people
from geodata.samples.osm_extract import EXTRACT_PATH
from geodata.samples.town import load_sample
from geodata.samples.town.households import household_rows, households_per_building
from tests.geodata.samples.town_support import column, scalar


# -- villages and buildings ----------------------------------------------------------------
def test_eleven_villages_and_no_swiss_one(sample_conn: Connection) -> None:
    names = column(sample_conn, "SELECT name FROM villages")
    assert len(names) == 11
    assert "Fläsch" not in names
    assert {"Vaduz", "Schaan", "Balzers", "Planken"} <= set(names)
    codes = column(sample_conn, "SELECT code FROM villages")
    assert all(re.fullmatch(r"9900(70(0[1-9]|1[01]))", str(c)) for c in codes)


def test_some_villages_have_detached_parts(sample_conn: Connection) -> None:
    parts = column(sample_conn, "SELECT ST_NumGeometries(geom) FROM villages")
    assert max(int(p) for p in parts) > 1


def test_counts_of_the_town(sample_conn: Connection) -> None:
    counts = table_counts(sample_conn)
    assert counts["households"] > 5000
    assert 3600 <= counts["buildings"] <= 3723
    assert counts["residents"] >= counts["households"]
    assert counts["grids"] >= 11
    assert counts["isolation_sites"] == 1


def test_buildings_are_those_of_the_extract_inside_the_country(sample_conn: Connection) -> None:
    raw = pyogrio.read_dataframe(f"/vsizip/{EXTRACT_PATH}/buildings.geojson")
    bounds = pyogrio.read_dataframe(f"/vsizip/{EXTRACT_PATH}/boundaries.geojson")
    country = bounds.geometry[bounds["admin_level"] == 2].iloc[0]
    inside = shapely.intersects(shapely.point_on_surface(raw.geometry.to_numpy()), country)
    assert scalar(sample_conn, "SELECT count(*) FROM buildings") == int(inside.sum())
    assert (
        scalar(sample_conn, "SELECT count(*) FROM buildings WHERE source_id NOT LIKE 'osm:%'") == 0
    )


def test_every_household_sits_in_a_building_in_a_grid_in_a_village(
    sample_conn: Connection,
) -> None:
    placed = scalar(
        sample_conn,
        """
        SELECT count(*)
        FROM households h
        JOIN buildings b ON b.id = h.building_id
        JOIN grids g ON g.id = b.grid_id AND g.id = h.grid_id
        JOIN villages v ON v.id = g.village_id
        WHERE ST_Intersects(ST_PointOnSurface(b.geom), g.geom)
          AND ST_Intersects(ST_PointOnSurface(b.geom), v.geom)
        """,
    )
    assert placed == scalar(sample_conn, "SELECT count(*) FROM households")
    assert scalar(sample_conn, "SELECT count(*) FROM buildings WHERE grid_id IS NULL") == 0
    residents_off_grid = scalar(
        sample_conn,
        "SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id "
        "WHERE r.grid_id IS DISTINCT FROM h.grid_id",
    )
    assert residents_off_grid == 0


# -- grids ---------------------------------------------------------------------------------
def test_grids_partition_their_village(sample_conn: Connection) -> None:
    overlap_m2 = scalar(
        sample_conn,
        """
        SELECT coalesce(sum(ST_Area(ST_CollectionExtract(
            ST_Intersection(ST_Transform(a.geom, 2056), ST_Transform(b.geom, 2056)), 3))), 0)
        FROM grids a JOIN grids b
          ON a.village_id = b.village_id AND a.id < b.id AND ST_Intersects(a.geom, b.geom)
        """,
    )
    assert float(overlap_m2) < 1.0
    gaps = sample_conn.execute(
        text(
            """
            SELECT v.name,
                   ST_Area(ST_SymDifference(ST_Transform(v.geom, 2056), u.metric)) AS metric_m2,
                   ST_Area(ST_SymDifference(v.geom, u.lonlat)::geography) AS sphere_m2
            FROM villages v
            JOIN (SELECT village_id, ST_Union(ST_Transform(geom, 2056)) AS metric,
                         ST_Union(geom) AS lonlat
                  FROM grids GROUP BY village_id) u ON u.village_id = v.id
            """
        )
    ).all()
    assert len(gaps) == 11
    for name, metric_m2, sphere_m2 in gaps:
        assert metric_m2 < 1.0, name
        assert sphere_m2 < 1.0, name


def test_settled_grids_hold_150_to_300_households(sample_conn: Connection) -> None:
    per_grid = column(
        sample_conn,
        "SELECT count(h.id) FROM grids g LEFT JOIN households h ON h.grid_id = g.id GROUP BY g.id",
    )
    settled = [int(n) for n in per_grid if int(n) > 0]
    assert settled
    assert all(150 <= n <= 300 for n in settled), sorted(settled)


def test_grid_codes_extend_their_village_code(sample_conn: Connection) -> None:
    wrong = scalar(
        sample_conn,
        "SELECT count(*) FROM grids g JOIN villages v ON v.id = g.village_id "
        "WHERE g.code !~ ('^' || v.code || '[0-9]{2}$')",
    )
    assert wrong == 0


def test_compounds_do_not_overlap_and_lie_in_one_grid(sample_conn: Connection) -> None:
    overlaps = scalar(
        sample_conn,
        "SELECT count(*) FROM compounds a JOIN compounds b ON a.id < b.id "
        "AND ST_Intersects(a.geom, b.geom) "
        "AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 0.01",
    )
    assert overlaps == 0
    outside_m2 = column(
        sample_conn,
        """
        SELECT ST_Area(ST_Difference(c.geom, g.geom)::geography)
        FROM compounds c
        JOIN grids g ON ST_Intersects(ST_PointOnSurface(c.geom), g.geom)
        """,
    )
    assert len(outside_m2) == scalar(sample_conn, "SELECT count(*) FROM compounds")
    assert max(float(a) for a in outside_m2) < 1.0


# -- loading -------------------------------------------------------------------------------
def test_loading_twice_changes_nothing(sample_conn: Connection) -> None:
    before = table_counts(sample_conn)
    assert load_sample(sample_conn, seed=2020) == {}
    assert table_counts(sample_conn) == before


def test_household_and_resident_generation_is_deterministic() -> None:
    area = np.array([80.0, 150.0, 420.0, 35.0, 900.0])
    floors = np.array([2, 2, 4, 1, 3])
    residential = np.array([True, True, True, False, True])

    def generate(seed: int) -> tuple[list[int], list[str], list[str]]:
        rng = np.random.default_rng(seed)
        counts = households_per_building(rng, area, floors, residential)
        rows = household_rows(
            rng, pd.DataFrame({"households": counts, "floors": floors, "grid": 0})
        )
        residents = people.synthetic_residents(rng, rows["members"], today=date(2020, 2, 1))
        return counts.tolist(), residents["name"].tolist(), residents["id_number"].tolist()

    assert generate(7) == generate(7)
    assert generate(7) != generate(8)
    counts, _, _ = generate(7)
    assert counts[3] == 0
    assert 900 * 3 / 90 * 0.85 <= counts[4] <= 900 * 3 / 90 * 1.15 + 1


def test_households_are_numbered_floor_by_floor() -> None:
    rows = household_rows(
        np.random.default_rng(1), pd.DataFrame({"households": [5], "floors": [3], "grid": [4]})
    )
    assert rows["room"].tolist() == ["101", "102", "201", "202", "301"]
    assert rows["unit"].tolist() == ["1", "1", "1", "1", "1"]
    assert set(rows["grid"]) == {4}
    assert rows["members"].between(1, 6).all()
