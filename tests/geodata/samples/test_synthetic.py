"""The synthetic town: sizes, determinism, valid and consistent geometry, on a real PostGIS."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

import numpy as np
import pytest
from sqlalchemy import Connection, text

from geodata.errors import ConfigError, WanggeError
from geodata.models import Base
from geodata.records.duty_checks import duty_checks
from geodata.records.topology import check_all, render_report, topology_only
from geodata.samples.columnar import Table, rows_text
from geodata.samples.people import ID_CHECK_CHARS, ID_WEIGHTS
from geodata.samples.synthetic import LOAD_ORDER, SyntheticSpec, generate_town, load_synthetic
from geodata.town_time import TOWN_TIMEZONE
from tests.conftest import TestDatabase

SPEC = SyntheticSpec.from_counts(households=3_000, villages=2, grids=6, checkpoints=3, seed=11)
GEOMETRY_TABLES = (
    "villages",
    "grids",
    "compounds",
    "buildings",
    "roads",
    "entrances",
    "checkpoints",
    "patrol_zones",
    "isolation_sites",
)


def checksum(conn: Connection, table: str) -> str:
    """md5 of every row of a table but its timestamps, in id order."""
    columns = [
        c.name
        for c in Base.metadata.tables[table].columns
        if c.name not in {"created_at", "updated_at"}
    ]
    rows = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608 (table and column names from the models' metadata)
    query = f"SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM ({rows}) t"  # noqa: S608 (rows is built just above from the models' metadata)
    return str(conn.execute(text(query)).scalar_one())


def count(conn: Connection, query: str) -> int:
    return int(conn.execute(text(query)).scalar_one())


# -- the spec ------------------------------------------------------------------
def test_default_ratios() -> None:
    spec = SyntheticSpec.from_counts(households=1_000_000, seed=1)
    assert (spec.villages, spec.grids, spec.checkpoints) == (500, 2_000, 500)
    tiny = SyntheticSpec.from_counts(households=10, seed=1)
    assert (tiny.villages, tiny.grids, tiny.checkpoints) == (1, 1, 1)
    few_grids = SyntheticSpec.from_counts(households=100_000, grids=20, seed=1)
    assert (few_grids.villages, few_grids.grids) == (20, 20)


@pytest.mark.parametrize(
    ("households", "villages", "grids", "checkpoints", "seed"),
    [
        (0, None, None, None, 1),
        (100, 5, 4, None, 1),
        (100, None, None, -1, 1),
        (100, None, None, None, -1),
    ],
)
def test_spec_refuses_nonsense(
    households: int, villages: int | None, grids: int | None, checkpoints: int | None, seed: int
) -> None:
    with pytest.raises(ConfigError):
        SyntheticSpec.from_counts(
            households=households,
            villages=villages,
            grids=grids,
            checkpoints=checkpoints,
            seed=seed,
        )


@pytest.mark.parametrize("shift_days", [0, 31])
def test_spec_refuses_shift_days_outside_the_history(shift_days: int) -> None:
    with pytest.raises(ConfigError, match="shift days"):
        SyntheticSpec.from_counts(households=100, seed=1, shift_days=shift_days)


# -- the town in memory --------------------------------------------------------
def test_counts_follow_the_spec() -> None:
    town = generate_town(SPEC)
    assert list(town) == list(LOAD_ORDER)
    assert len(town["households"]) == SPEC.households
    assert len(town["villages"]) == SPEC.villages
    assert len(town["grids"]) == SPEC.grids
    assert len(town["checkpoints"]) == SPEC.checkpoints
    assert len(town["checkpoint_shifts"]) == 3 * SPEC.checkpoints + 2 * SPEC.villages
    assert len(town["patrol_zones"]) == 2 * SPEC.villages
    assert 2.5 <= len(town["households"]) / len(town["buildings"]) <= 3.5
    assert 2.3 <= len(town["residents"]) / len(town["households"]) <= 2.9
    assert 0.85 <= len(town["visits"]) / len(town["households"]) <= 0.95
    members = town["households"].columns["members"]
    assert int(members.sum()) == len(town["residents"])


def test_default_town_has_the_default_ratios() -> None:
    town = generate_town(SyntheticSpec.from_counts(households=20_000, seed=3))
    assert len(town["households"]) == 20_000
    assert (len(town["villages"]), len(town["grids"]), len(town["checkpoints"])) == (10, 40, 10)
    households_per_grid = np.bincount(town["households"].columns["grid_id"])[1:]
    assert households_per_grid.min() >= 490
    assert households_per_grid.max() <= 510


def rows(table: Table) -> str:
    """The table as the COPY text the loader would send, ids local."""
    return rows_text(table, 0, len(table), offsets=dict.fromkeys(LOAD_ORDER, 0), source_prefix="")


def test_same_seed_same_town() -> None:
    first, second = generate_town(SPEC), generate_town(SPEC)
    for name in LOAD_ORDER:
        assert rows(first[name]) == rows(second[name]), name


def test_another_seed_another_town() -> None:
    first = generate_town(SPEC)
    other = generate_town(replace(SPEC, seed=12))
    for name in ("villages", "buildings", "residents", "visits"):
        assert rows(first[name]) != rows(other[name]), name


def test_id_numbers_carry_a_valid_check_character() -> None:
    ids = generate_town(SPEC)["residents"].columns["id_number"]
    digits = np.array([[int(c) for c in s[:17]] for s in ids.tolist()])
    expected = ID_CHECK_CHARS[(digits @ ID_WEIGHTS) % 11]
    assert [ord(s[17]) for s in ids.tolist()] == expected.tolist()
    assert all(s.startswith("99") for s in ids.tolist())  # no such province


def test_copy_text_escapes_nothing_it_need_not() -> None:
    town = generate_town(SPEC)
    offsets = dict.fromkeys(town, 0)
    for table in town.values():
        body = rows_text(table, 0, len(table), offsets=offsets, source_prefix="syn11:")
        lines = body.splitlines()
        assert len(lines) == len(table)
        assert "\\" not in body.replace("\\N", "")
        assert {line.count("\t") for line in lines} == {len(table.column_names()) - 1}


# -- the town in PostGIS -------------------------------------------------------
def test_load_writes_what_it_reports(conn: Connection) -> None:
    counts = load_synthetic(conn, SPEC, progress=False)
    assert counts["households"] == SPEC.households
    for table, n in counts.items():
        assert count(conn, f"SELECT count(*) FROM {table}") == n, table  # noqa: S608 (table names are the keys of load_synthetic's counts)
    assert count(conn, "SELECT count(*) FROM grids WHERE leader_id IS NULL") == 0
    assert count(conn, "SELECT sum(population) FROM villages") == counts["residents"]
    stale = """
        SELECT count(*) FROM households h WHERE h.last_visited_at IS DISTINCT FROM
          (SELECT max(v.visited_at) FROM visits v WHERE v.household_id = h.id)"""
    assert count(conn, stale) == 0
    assert count(conn, "SELECT count(*) FROM households WHERE last_visited_at IS NULL") > 0


def test_same_seed_same_rows(conn: Connection) -> None:
    savepoint = conn.begin_nested()
    load_synthetic(conn, SPEC, progress=False)
    first = {t: checksum(conn, t) for t in LOAD_ORDER}
    savepoint.rollback()
    assert count(conn, "SELECT count(*) FROM households") == 0
    load_synthetic(conn, SPEC, progress=False)
    assert {t: checksum(conn, t) for t in LOAD_ORDER} == first


def test_same_seed_twice_is_refused(conn: Connection) -> None:
    load_synthetic(conn, SPEC, progress=False)
    before = count(conn, "SELECT count(*) FROM residents")
    with pytest.raises(WanggeError, match="seed 11 is already loaded"):
        load_synthetic(conn, SPEC, progress=False)
    assert count(conn, "SELECT count(*) FROM residents") == before


def test_two_seeds_live_side_by_side(conn: Connection) -> None:
    load_synthetic(conn, SPEC, progress=False)
    other = SyntheticSpec.from_counts(households=500, seed=12)
    load_synthetic(conn, other, progress=False)
    assert count(conn, "SELECT count(*) FROM households") == SPEC.households + 500
    # The towns lie apart, and the identity sequences were moved past the ids chosen.
    touching = """
        SELECT count(*) FROM villages a JOIN villages b
          ON a.source_id LIKE 'syn11:%' AND b.source_id LIKE 'syn12:%'
         AND ST_Intersects(a.geom, b.geom)"""
    assert count(conn, touching) == 0
    insert = """
        INSERT INTO isolation_sites (source_id, name, beds, geom)
        VALUES ('test:site', 'x', 1, ST_SetSRID(ST_MakePoint(113, 23), 4326)) RETURNING id"""
    new_id = conn.execute(text(insert)).scalar_one()
    assert new_id > count(conn, "SELECT max(id) FROM isolation_sites WHERE source_id LIKE 'syn%'")


def test_geometry_is_valid_and_typed(conn: Connection) -> None:
    load_synthetic(conn, SPEC, progress=False)
    for table in GEOMETRY_TABLES:
        assert count(conn, f"SELECT count(*) FROM {table} WHERE NOT ST_IsValid(geom)") == 0  # noqa: S608 (table names from a literal list in this test)
        assert count(conn, f"SELECT count(*) FROM {table} WHERE ST_SRID(geom) <> 4326") == 0  # noqa: S608 (table names from a literal list in this test)
    assert count(conn, "SELECT count(DISTINCT ST_GeometryType(geom)) FROM roads") == 1


def test_the_town_passes_the_topology_checks(conn: Connection) -> None:
    load_synthetic(conn, SPEC, progress=False)
    report = topology_only(check_all(conn))
    assert report["ok"], render_report(report)


def test_grids_partition_their_village(conn: Connection) -> None:
    load_synthetic(conn, SPEC, progress=False)
    overlaps = """
        SELECT count(*) FROM {table} a JOIN {table} b
          ON a.id < b.id AND ST_Intersects(a.geom, b.geom)
         AND ST_Relate(a.geom, b.geom, '2********')"""
    assert count(conn, overlaps.format(table="grids")) == 0
    assert count(conn, overlaps.format(table="villages")) == 0
    # Gaps and overhangs: what lies in the village or in its grids but not in both.
    difference = """
        SELECT max(ST_Area(ST_SymDifference(v.geom, u.geom)) / ST_Area(v.geom))
        FROM villages v
        JOIN (SELECT village_id, ST_Union(geom) AS geom FROM grids GROUP BY village_id) u
          ON u.village_id = v.id"""
    assert conn.execute(text(difference)).scalar_one() < 1e-12
    assert count(conn, "SELECT count(DISTINCT village_id) FROM grids") == SPEC.villages


def test_every_household_has_a_building_in_a_grid_in_a_village(conn: Connection) -> None:
    load_synthetic(conn, SPEC, progress=False)
    sample = "SELECT * FROM households WHERE id % 7 = 0"
    misplaced = f"""
        SELECT count(*) FROM ({sample}) h
        LEFT JOIN buildings b ON b.id = h.building_id
        LEFT JOIN compounds c ON c.id = b.compound_id
        LEFT JOIN grids g ON g.id = h.grid_id
        LEFT JOIN villages v ON v.id = g.village_id
        WHERE b.id IS NULL OR g.id IS NULL OR v.id IS NULL OR b.grid_id <> g.id
           OR c.village_id <> v.id
           OR NOT ST_Within(b.geom, c.geom)
           OR NOT ST_Within(b.geom, g.geom)
           OR NOT ST_CoveredBy(g.geom, v.geom)"""  # noqa: S608 (sample is a constant query of this test)
    assert count(conn, misplaced) == 0
    assert count(conn, f"SELECT count(*) FROM ({sample}) h") > 300  # noqa: S608 (sample is a constant query of this test)
    elsewhere = """
        SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id
        WHERE r.grid_id <> h.grid_id"""
    assert count(conn, elsewhere) == 0


def test_buildings_do_not_overlap(conn: Connection) -> None:
    load_synthetic(conn, SPEC, progress=False)
    touching = """
        SELECT count(*) FROM {table} a JOIN {table} b
          ON a.id < b.id AND ST_Intersects(a.geom, b.geom)"""
    assert count(conn, touching.format(table="buildings")) == 0
    assert count(conn, touching.format(table="compounds")) == 0


def test_checkpoints_staff_village_gates_around_the_clock(conn: Connection) -> None:
    load_synthetic(conn, SPEC, progress=False)
    at_gates = """
        SELECT count(*) FROM checkpoints k JOIN entrances e ON e.id = k.entrance_id
        WHERE e.state = 'checkpoint' AND e.village_id = k.village_id
          AND ST_Equals(e.geom, k.geom)"""
    assert count(conn, at_gates) == SPEC.checkpoints
    around_the_clock = """
        SELECT count(*) FROM (
            SELECT checkpoint_id FROM checkpoint_shifts WHERE checkpoint_id IS NOT NULL
            GROUP BY checkpoint_id
            HAVING sum(extract(epoch FROM ends_at - starts_at)) = 86400 AND count(*) = 3) s"""
    assert count(conn, around_the_clock) == SPEC.checkpoints
    assert count(conn, "SELECT count(*) FROM entrances WHERE state = 'checkpoint'") == 3


def test_patrol_zones_have_two_patrols_of_their_village_on_a_shift_of_their_period(
    conn: Connection,
) -> None:
    """Each zone one 12-hour shift a duty day from 06:00 (day) or 18:00 (night) town time,
    with two patrols of its village on it: the coverage report counts it as patrolled."""
    load_synthetic(conn, SPEC, progress=False)
    wrong = """
        SELECT count(*) FROM patrol_zones z JOIN checkpoint_shifts s ON s.patrol_zone_id = z.id
        WHERE s.ends_at - s.starts_at <> interval '12 hours' OR s.staff_count <> 2
           OR extract(hour FROM s.starts_at AT TIME ZONE 'Asia/Shanghai')
              <> CASE z.period WHEN 'day' THEN 6 ELSE 18 END
           OR EXISTS (SELECT 1 FROM shift_staff x JOIN staff p ON p.id = x.staff_id
                      WHERE x.shift_id = s.id AND (p.role <> 'patrol'
                            OR p.village_id <> z.village_id))"""
    assert count(conn, wrong) == 0
    staffed = """
        SELECT count(DISTINCT z.id) FROM patrol_zones z JOIN checkpoint_shifts s
        ON s.patrol_zone_id = z.id"""
    assert count(conn, staffed) == 2 * SPEC.villages


def test_visits_are_recent_and_by_a_worker_of_the_grid(conn: Connection) -> None:
    load_synthetic(conn, SPEC, progress=False)
    stray = """
        SELECT count(*) FROM visits v
        JOIN households h ON h.id = v.household_id
        JOIN staff s ON s.id = v.worker_id
        WHERE s.grid_id <> h.grid_id OR v.grid_id <> h.grid_id
           OR v.visited_at < timestamptz '2022-04-01 00:00+08'
           OR v.visited_at >= timestamptz '2022-04-16 00:00+08'"""
    assert count(conn, stray) == 0
    patrolled = """
        SELECT count(*) FROM patrol_zones z JOIN teams t ON t.id = z.team_id
        WHERE t.kind = 'patrol' AND t.village_id = z.village_id"""
    assert count(conn, patrolled) == 2 * SPEC.villages


def test_progress_goes_to_stderr_only_when_asked(
    conn: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    load_synthetic(conn, SyntheticSpec.from_counts(households=50, seed=21), progress=False)
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert quiet.out == ""
    load_synthetic(conn, SyntheticSpec.from_counts(households=50, seed=22), progress=True)
    shown = capsys.readouterr()
    assert "visits" in shown.err or "synthetic town" in shown.err
    assert shown.out == ""


def test_the_app_role_is_refused_before_anything_is_written(test_db: TestDatabase) -> None:
    with test_db.app.connect() as app_conn, app_conn.begin():
        with pytest.raises(WanggeError, match="row security"):
            load_synthetic(app_conn, SPEC, progress=False)
        assert count(app_conn, "SELECT count(*) FROM villages") == 0


@pytest.mark.parametrize(
    ("households", "villages", "grids", "checkpoints"),
    [(1, 1, 1, 0), (7, None, 7, None), (10, 3, 7, 10), (2_000, 5, 5, 0), (900, 2, 3, 9)],
)
def test_odd_sizes_make_a_sound_town(
    conn: Connection,
    households: int,
    villages: int | None,
    grids: int | None,
    checkpoints: int | None,
) -> None:
    spec = SyntheticSpec.from_counts(
        households=households, villages=villages, grids=grids, checkpoints=checkpoints, seed=5
    )
    counts = load_synthetic(conn, spec, progress=False)
    assert counts["households"] == households
    assert counts["grids"] == spec.grids
    assert counts["checkpoints"] == spec.checkpoints
    report = topology_only(check_all(conn))
    assert report["ok"], render_report(report)


# -- people on shifts ----------------------------------------------------------
def test_shifts_hold_their_people_in_memory() -> None:
    town = generate_town(replace(SPEC, shift_days=3))
    shifts, people = town["checkpoint_shifts"], town["shift_staff"]
    assert len(shifts) == 3 * 3 * SPEC.checkpoints + 3 * 2 * SPEC.villages
    on = np.bincount(people.columns["shift_id"], minlength=len(shifts) + 1)[1:]
    assert (on == shifts.columns["staff_count"]).all()
    assert (on >= 2).all()
    # Each checkpoint person keeps one shift a day, and each patrol one patrol a day (by day
    # or by night): 3 days, 3 shifts.
    staff = town["staff"]
    on_duty = np.isin(staff.columns["role"], ["checkpoint_staff", "patrol"])
    shifts_of = np.bincount(people.columns["staff_id"], minlength=len(staff) + 1)[1:]
    assert set(shifts_of[on_duty].tolist()) == {3}
    assert set(shifts_of[~on_duty].tolist()) == {0}


def test_shifts_have_people_and_their_head_count(conn: Connection) -> None:
    counts = load_synthetic(conn, SPEC, progress=False)
    assert counts["shift_staff"] == count(conn, "SELECT sum(staff_count) FROM checkpoint_shifts")
    assert counts["shift_staff"] >= 2 * counts["checkpoint_shifts"]
    miscounted = """
        SELECT count(*) FROM checkpoint_shifts s
        WHERE s.staff_count <> (SELECT count(*) FROM shift_staff p WHERE p.shift_id = s.id)
           OR s.staff_count < (SELECT staff_per_shift FROM checkpoints c
                               WHERE c.id = s.checkpoint_id)"""
    assert count(conn, miscounted) == 0
    strangers = """
        SELECT count(*) FROM shift_staff p
        JOIN checkpoint_shifts s ON s.id = p.shift_id
        JOIN checkpoints c ON c.id = s.checkpoint_id
        JOIN staff t ON t.id = p.staff_id
        JOIN teams m ON m.id = t.team_id
        WHERE t.role <> 'checkpoint_staff' OR m.kind <> 'checkpoint'
           OR t.village_id <> c.village_id OR m.village_id <> c.village_id
           OR (p.starts_at, p.ends_at) IS DISTINCT FROM (s.starts_at, s.ends_at)"""
    assert count(conn, strangers) == 0


def test_a_town_of_several_days_passes_the_staffing_rules(conn: Connection) -> None:
    spec = replace(SPEC, shift_days=2)
    load_synthetic(conn, spec, progress=False)
    shifts = count(conn, "SELECT count(*) FROM checkpoint_shifts")
    assert shifts == 2 * 3 * spec.checkpoints + 2 * 2 * spec.villages
    moment = datetime.combine(spec.reference_date, time(0, 30), tzinfo=TOWN_TIMEZONE)
    checks = duty_checks(conn, moment, limit=5)
    for key in (
        "checkpoint_understaffed",
        "shift_overlap",
        "hours_over_limit",
        "patrol_zone_without_shift",
    ):
        assert checks[key]["count"] == 0, (key, checks[key])
    # The day after the last shifts, every checkpoint is short in every hour.
    after = duty_checks(conn, moment + timedelta(days=1), limit=5)
    assert after["checkpoint_understaffed"]["count"] == 24 * spec.checkpoints
