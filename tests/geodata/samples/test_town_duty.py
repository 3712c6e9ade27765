"""The sample town's entrances, checkpoints and shifts, its people on duty and its sites:
planted faults, responsible people at every level, people on shifts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from tests.geodata.samples.town_support import column, scalar


def _rows(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(text(sql))]


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
    most = dict(
        _rows(
            sample_conn,
            """
            SELECT role, max(h) FROM (
                SELECT s.role, sum(extract(epoch FROM least(b.ends_at,
                                   a.starts_at + interval '24 hours') - b.starts_at)) / 3600 AS h
                FROM shift_staff a JOIN shift_staff b ON b.staff_id = a.staff_id
                 AND b.starts_at >= a.starts_at AND b.starts_at < a.starts_at + interval '24 hours'
                JOIN staff s ON s.id = a.staff_id
                GROUP BY s.role, a.id) AS w GROUP BY role
            """,
        )
    )
    assert most == {"checkpoint_staff": 8, "patrol": 12}
    assert (
        scalar(sample_conn, "SELECT count(*) FROM checkpoint_shifts WHERE source_id IS NULL") == 0
    )


def test_patrol_zones_have_their_team_on_a_b_duty_every_duty_day(
    sample_conn: Connection,
) -> None:
    """Each zone: one shift a duty day over its period, 7 days, held by its own team's
    patrols, the two halves of the team in turn (nobody on two days running)."""
    rows = _rows(
        sample_conn,
        """
        SELECT z.period, count(DISTINCT sh.id), count(DISTINCT x.staff_id),
               bool_and(s.team_id = z.team_id AND s.role = 'patrol'),
               bool_and(sh.staff_count = (SELECT count(*) FROM shift_staff y
                                          WHERE y.shift_id = sh.id)),
               min(extract(hour FROM sh.starts_at AT TIME ZONE 'Asia/Shanghai')),
               max(extract(epoch FROM sh.ends_at - sh.starts_at)) / 3600
        FROM patrol_zones z JOIN checkpoint_shifts sh ON sh.patrol_zone_id = z.id
        JOIN shift_staff x ON x.shift_id = sh.id JOIN staff s ON s.id = x.staff_id
        GROUP BY z.id, z.period
        """,
    )
    zones = scalar(sample_conn, "SELECT count(*) FROM patrol_zones")
    assert len(rows) == zones
    for period, shifts, people, own_team, counted, hour, hours in rows:
        assert (shifts, own_team, counted, hours) == (7, True, True, 12)
        assert hour == (6 if period == "day" else 18)
        assert people >= 4
    back_to_back = scalar(
        sample_conn,
        """
        SELECT count(*) FROM shift_staff a JOIN checkpoint_shifts sa ON sa.id = a.shift_id
        JOIN shift_staff b ON b.staff_id = a.staff_id AND b.shift_id <> a.shift_id
        JOIN checkpoint_shifts sb ON sb.id = b.shift_id
        WHERE sa.patrol_zone_id IS NOT NULL AND sb.patrol_zone_id = sa.patrol_zone_id
          AND sb.starts_at = sa.starts_at + interval '24 hours'
        """,
    )
    assert back_to_back == 0


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
