"""The sample town's synthetic residents and visits, and the pure functions that make them."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geodata.samples import people
from geodata.samples.osm_extract import building_floors
from geodata.samples.town.grids import balanced_groups, weighted_bisection
from geodata.town_time import town_today
from tests.geodata.samples.town_support import scalar


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
    # the fixture loads the town as of the town's today
    today = town_today()
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
        {"today": town_today()},
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
