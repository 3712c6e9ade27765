"""The sample town: hierarchy, partition, counts, planted faults and synthetic people."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Connection, text

from geodata.db.stats import table_counts
from geodata.samples import people
from geodata.samples.osm_extract import EXTRACT_PATH, building_floors
from geodata.samples.town import load_sample
from geodata.samples.town.grids import balanced_groups, weighted_bisection
from geodata.samples.town.households import household_rows, households_per_building


def scalar(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).scalar_one()


def column(conn: Connection, sql: str) -> list[Any]:
    return list(conn.execute(text(sql)).scalars())


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


# -- entrances and checkpoints -------------------------------------------------------------
def test_planted_entrance_faults_and_nothing_else(sample_conn: Connection) -> None:
    open_counts = column(
        sample_conn,
        """
        SELECT count(e.id) FILTER (WHERE e.state = 'open')
        FROM compounds c LEFT JOIN entrances e ON e.compound_id = c.id
        GROUP BY c.id
        """,
    )
    opened = [int(n) for n in open_counts]
    assert opened.count(2) == 2
    assert opened.count(0) == 2
    assert all(n <= 2 for n in opened)
    without_entrance = scalar(
        sample_conn,
        "SELECT count(*) FROM compounds c "
        "WHERE NOT EXISTS (SELECT 1 FROM entrances e WHERE e.compound_id = c.id)",
    )
    assert without_entrance == 0
    far = sample_conn.execute(
        text(
            """
            SELECT e.compound_id IS NOT NULL, e.state,
                   ST_Distance(e.geom::geography,
                               ST_Boundary(coalesce(c.geom, v.geom))::geography) AS d
            FROM entrances e
            LEFT JOIN compounds c ON c.id = e.compound_id
            LEFT JOIN villages v ON v.id = e.village_id
            WHERE ST_Distance(e.geom::geography,
                              ST_Boundary(coalesce(c.geom, v.geom))::geography) > 5
            """
        )
    ).all()
    assert len(far) == 1
    on_compound, state, distance = far[0]
    assert on_compound
    assert state == "sealed"
    assert 25 < distance < 35


def test_every_entrance_has_one_event(sample_conn: Connection) -> None:
    mismatched = scalar(
        sample_conn,
        """
        SELECT count(*) FROM entrances e
        LEFT JOIN entrance_events ev ON ev.entrance_id = e.id
        WHERE ev.id IS NULL OR ev.to_state <> e.state OR ev.from_state IS NOT NULL
           OR ev.at <> e.since OR ev.user_name <> 'sample'
        """,
    )
    assert mismatched == 0
    assert scalar(sample_conn, "SELECT count(*) FROM entrance_events") == scalar(
        sample_conn, "SELECT count(*) FROM entrances"
    )


def test_checkpoints_guard_village_entrances(sample_conn: Connection) -> None:
    per_village = column(
        sample_conn,
        "SELECT count(c.id) FROM villages v LEFT JOIN checkpoints c ON c.village_id = v.id "
        "GROUP BY v.id",
    )
    assert all(2 <= int(n) <= 4 for n in per_village)
    misplaced = scalar(
        sample_conn,
        """
        SELECT count(*) FROM checkpoints c JOIN entrances e ON e.id = c.entrance_id
        WHERE e.village_id IS DISTINCT FROM c.village_id OR e.state <> 'checkpoint'
           OR NOT ST_Equals(e.geom, c.geom) OR c.state <> 'active'
           OR c.staff_per_shift NOT IN (2, 3) OR c.radius_m NOT BETWEEN 500 AND 1500
        """,
    )
    assert misplaced == 0
    checkpoint_entrances = scalar(
        sample_conn, "SELECT count(*) FROM entrances WHERE state = 'checkpoint'"
    )
    assert checkpoint_entrances == scalar(sample_conn, "SELECT count(*) FROM checkpoints")
    kinds = set(column(sample_conn, "SELECT DISTINCT kind FROM checkpoints"))
    assert kinds == {"village_gate", "road"}


def test_three_shifts_a_day_for_a_week(sample_conn: Connection) -> None:
    shifts = sample_conn.execute(
        text(
            """
            SELECT count(*), count(DISTINCT s.starts_at),
                   count(*) FILTER (WHERE s.staff_count < c.staff_per_shift),
                   bool_and(s.ends_at - s.starts_at = interval '8 hours'),
                   bool_and(extract(hour FROM s.starts_at AT TIME ZONE 'Asia/Shanghai')
                            IN (0, 8, 16))
            FROM checkpoint_shifts s JOIN checkpoints c ON c.id = s.checkpoint_id
            """
        )
    ).one()
    total, starts, understaffed, eight_hours, aligned = shifts
    assert total == 21 * scalar(sample_conn, "SELECT count(*) FROM checkpoints")
    assert starts == 21
    assert 0 < understaffed < total / 4
    assert eight_hours
    assert aligned


# -- people on duty and sites --------------------------------------------------------------
def test_grids_have_a_leader_and_two_workers(sample_conn: Connection) -> None:
    wrong = scalar(
        sample_conn,
        """
        SELECT count(*) FROM grids g
        LEFT JOIN staff l ON l.id = g.leader_id
        WHERE l.id IS NULL OR l.role <> 'grid_leader' OR l.grid_id <> g.id
           OR (SELECT count(*) FROM staff w
               WHERE w.grid_id = g.id AND w.role = 'grid_worker') <> 2
        """,
    )
    assert wrong == 0


def test_someone_is_responsible_at_every_level(sample_conn: Connection) -> None:
    wrong = scalar(
        sample_conn,
        """
        SELECT (SELECT count(*) FROM villages v LEFT JOIN staff s ON s.id = v.secretary_id
                WHERE s.role IS DISTINCT FROM 'village_secretary' OR s.village_id <> v.id)
             + (SELECT count(*) FROM compounds c LEFT JOIN staff s ON s.id = c.head_id
                WHERE s.role IS DISTINCT FROM 'yard_head' OR s.village_id <> c.village_id)
             + (SELECT count(*) FROM buildings b JOIN staff s ON s.id = b.head_id
                WHERE s.role <> 'building_head' OR s.grid_id <> b.grid_id)
        """,
    )
    assert wrong == 0
    heads = scalar(sample_conn, "SELECT count(*) FROM buildings WHERE head_id IS NOT NULL")
    assert 0 < heads < scalar(sample_conn, "SELECT count(*) FROM buildings") / 5


def test_shifts_hold_their_people(sample_conn: Connection) -> None:
    wrong = scalar(
        sample_conn,
        """
        SELECT count(*) FROM checkpoint_shifts sh JOIN checkpoints c ON c.id = sh.checkpoint_id
        WHERE sh.staff_count <> (SELECT count(*) FROM shift_staff x WHERE x.shift_id = sh.id)
           OR EXISTS (SELECT 1 FROM shift_staff x JOIN staff s ON s.id = x.staff_id
                      WHERE x.shift_id = sh.id AND (s.role <> 'checkpoint_staff'
                            OR s.village_id <> c.village_id))
        """,
    )
    assert wrong == 0
    most = scalar(
        sample_conn,
        """
        SELECT max(h) FROM (
            SELECT sum(extract(epoch FROM least(b.ends_at, a.starts_at + interval '24 hours')
                               - b.starts_at)) / 3600 AS h
            FROM shift_staff a JOIN shift_staff b ON b.staff_id = a.staff_id
             AND b.starts_at >= a.starts_at AND b.starts_at < a.starts_at + interval '24 hours'
            GROUP BY a.id) AS w
        """,
    )
    assert most == 8
    assert (
        scalar(sample_conn, "SELECT count(*) FROM checkpoint_shifts WHERE source_id IS NULL") == 0
    )


def test_teams_and_patrol_zones_per_village(sample_conn: Connection) -> None:
    teams = sample_conn.execute(
        text("SELECT kind, count(*) FROM teams GROUP BY kind ORDER BY kind")
    ).all()
    n_grids = scalar(sample_conn, "SELECT count(*) FROM grids")
    assert [tuple(t) for t in teams] == [
        ("checkpoint", 11),
        ("combat_unit", 11),
        ("emergency", 11),
        ("household_visit", n_grids),
        ("patrol", 22),
    ]
    misplaced = scalar(
        sample_conn,
        """
        SELECT count(*) FROM teams t LEFT JOIN teams p ON p.id = t.parent_id
        WHERE (t.kind = 'combat_unit') <> (t.parent_id IS NULL)
           OR p.kind <> 'combat_unit' OR p.village_id <> t.village_id
           OR NOT EXISTS (SELECT 1 FROM staff s WHERE s.team_id = t.id)
        """,
    )
    assert misplaced == 0
    zones = scalar(
        sample_conn,
        """
        SELECT count(*) FROM patrol_zones z JOIN teams t ON t.id = z.team_id
        WHERE t.kind = 'patrol' AND t.village_id = z.village_id
          AND ST_GeometryType(z.geom) = 'ST_MultiPolygon'
          AND ST_Area(ST_Difference(z.geom, (
              SELECT geom FROM villages v WHERE v.id = z.village_id))::geography) < 1
        """,
    )
    assert zones == 22
    periods = column(sample_conn, "SELECT period FROM patrol_zones GROUP BY period, village_id")
    assert sorted(periods) == ["day"] * 11 + ["night"] * 11


def test_isolation_site_in_a_building(sample_conn: Connection) -> None:
    site = sample_conn.execute(
        text(
            "SELECT beds, reserve_rooms, "
            "EXISTS (SELECT 1 FROM buildings b WHERE ST_DWithin(b.geom::geography, "
            "s.geom::geography, 1)) FROM isolation_sites s"
        )
    ).one()
    assert tuple(site) == (120, 10, True)
    used = sample_conn.execute(text("SELECT beds_used FROM isolation_sites")).scalar_one()
    assert used == 86  # geodata.samples.town.duty.ISOLATION_BEDS_USED: most beds, not all


# -- residents and visits ------------------------------------------------------------------
def test_residents_are_visibly_synthetic(sample_conn: Connection) -> None:
    rows = sample_conn.execute(
        text("SELECT name, id_number, phone FROM residents ORDER BY id LIMIT 2000")
    ).all()
    for name, id_number, phone in rows:
        assert 2 <= len(name) <= 3
        assert re.fullmatch(
            r"990101(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}[0-9X]", id_number
        )
        weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        check = "10X98765432"[
            sum(int(d) * w for d, w in zip(id_number[:17], weights, strict=True)) % 11
        ]
        assert id_number[17] == check
        assert phone is None or re.fullmatch(r"19900\d{6}", phone)


def test_resident_flags_and_quarantine(sample_conn: Connection) -> None:
    # the fixture loads the town as of date.today()
    today = date.today()
    total, returnees, contacts, fever, bad_dates = sample_conn.execute(
        text(
            """
            SELECT count(*), count(*) FILTER (WHERE returnee),
                   count(*) FILTER (WHERE close_contact), count(*) FILTER (WHERE fever),
                   count(*) FILTER (WHERE returnee AND (
                       quarantine_until <> returned_on + 14
                       OR returned_on NOT BETWEEN :today - 19 AND :today))
            FROM residents
            """
        ),
        {"today": today},
    ).one()
    assert 0.01 < returnees / total < 0.03
    assert 0.001 < contacts / total < 0.006
    assert 0 < fever / total < 0.003
    assert bad_dates == 0
    mismatched = scalar(
        sample_conn,
        """
        SELECT count(*) FROM households h
        WHERE (h.status = 'home_quarantine') <> EXISTS (
            SELECT 1 FROM residents r WHERE r.household_id = h.id AND r.returnee
              AND r.quarantine_until >= :today)
        """,
        today=today,
    )
    assert mismatched == 0


def test_visits_cover_households_with_gaps(sample_conn: Connection) -> None:
    never, households, outside_window, wrong_worker = sample_conn.execute(
        text(
            """
            SELECT
              (SELECT count(*) FROM households h
               WHERE NOT EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id)),
              (SELECT count(*) FROM households),
              (SELECT count(*) FROM visits WHERE visited_at < :today - 15
                 OR visited_at >= :today + 1),
              (SELECT count(*) FROM visits v
               JOIN households h ON h.id = v.household_id
               LEFT JOIN staff s ON s.id = v.worker_id
               WHERE v.grid_id <> h.grid_id OR s.role IS DISTINCT FROM 'grid_worker'
                  OR s.grid_id <> h.grid_id)
            """
        ),
        {"today": date.today()},
    ).one()
    assert 0.01 < never / households < 0.06
    assert outside_window == 0
    assert wrong_worker == 0
    twice_daily = scalar(
        sample_conn,
        """
        SELECT avg(n) FROM (
            SELECT v.household_id, date(v.visited_at AT TIME ZONE 'Asia/Shanghai'), count(*) n
            FROM visits v JOIN households h ON h.id = v.household_id
            WHERE h.status = 'home_quarantine'
            GROUP BY 1, 2) s
        """,
    )
    assert 1.8 < float(twice_daily) <= 2.2


def test_fever_counts_come_from_residents(sample_conn: Connection) -> None:
    wrong = scalar(
        sample_conn,
        """
        SELECT count(*) FROM visits v
        WHERE v.result <> 'nobody_home' AND v.fever_count <> (
            SELECT count(*) FROM residents r WHERE r.household_id = v.household_id AND r.fever)
        """,
    )
    assert wrong == 0


# -- pure functions ------------------------------------------------------------------------
def test_people_functions_are_vectorised_and_seeded() -> None:
    rng = np.random.default_rng(3)
    names = people.chinese_names(rng, 500)
    assert len(names) == 500
    assert all(n[0] in people.SURNAMES and 2 <= len(n) <= 3 for n in names)
    ids = people.synthetic_id_numbers(np.random.default_rng(3), 4, [1950, 1980, 2001, 2019])
    assert [i[6:10] for i in ids] == ["1950", "1980", "2001", "2019"]
    assert ids == people.synthetic_id_numbers(np.random.default_rng(3), 4, [1950, 1980, 2001, 2019])
    phones = people.synthetic_phones(np.random.default_rng(3), 1000)
    assert len(set(phones)) == 1000


def test_id_check_character_matches_the_standard() -> None:
    # the worked example of GB 11643-1999: 11010519491231002X
    digits = np.frombuffer(b"11010519491231002", dtype=np.uint8).reshape(1, 17)
    assert bytes(people.id_check_characters(digits)) == b"X"


def test_weighted_bisection_caps_every_group() -> None:
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 1000, size=(800, 2))
    weights = rng.integers(0, 12, size=800)
    for labels in (weighted_bisection(xy, weights), balanced_groups(xy, weights)):
        sums = np.bincount(labels, weights=weights)
        assert sums.max() <= 300
        assert sums.min() >= 150
        assert sums.sum() == weights.sum()


def test_floors_follow_the_building_tag() -> None:
    floors = building_floors(
        np.random.default_rng(0),
        pd.Series(["house", "apartments", "church", "yes", None]),
        pd.Series([None, None, None, "7", None]),
    )
    assert floors[0] == 2
    assert floors[1] in (3, 4)
    assert floors[2] == 1
    assert floors[3] == 7
    assert floors[4] in (1, 2, 3)


def test_quarantine_lasts_fourteen_days() -> None:
    today = date(2020, 2, 1)
    residents = people.synthetic_residents(
        np.random.default_rng(9), np.full(3000, 3), today=today, returnee_share=0.1
    )
    back = residents[residents["returnee"]]
    assert len(back) > 0
    assert (back["quarantine_until"] == back["returned_on"] + timedelta(days=14)).all()
    assert (back["returned_on"] >= today - timedelta(days=19)).all()
    assert back["origin"].notna().all()
