"""Disclosure control: suppression, complements, random rounding, frozen days, the rules."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from geodata.auth.access import Principal
from geodata.disclosure import tables
from geodata.disclosure.cellkey import CellKeys, published, random_round
from geodata.disclosure.rules import (
    FINEST_HEX_RESOLUTION,
    DisclosureError,
    check_hex_resolution,
    round_radius_m,
    town_today,
)
from geodata.disclosure.snapshots import publish
from geodata.disclosure.tables import CountTable, Unit, protect
from geodata.vocab import Role

KEYS = CellKeys(b"s" * 32)
DAY = date(2026, 2, 1)


def test_rounding_is_to_base_five_unbiased_and_keyed() -> None:
    assert random_round(10, 0.99) == 10
    assert random_round(12, 0.0) == 10
    assert random_round(12, 0.61) == 15  # up with probability 2/5: draws from 0.6 on
    assert random_round(12, 0.59) == 10
    draws = [KEYS.draw(f"grid:{i}", DAY, "residents") for i in range(20_000)]
    mean = sum(random_round(13, d) for d in draws) / len(draws)
    assert abs(mean - 13) < 0.1
    assert KEYS.draw("grid:1", DAY, "residents") == CellKeys(b"s" * 32).draw(
        "grid:1", DAY, "residents"
    )
    assert KEYS.draw("grid:1", DAY, "residents") != KEYS.draw("grid:1", DAY, "fever")
    assert KEYS.draw("grid:1", DAY, "residents") != CellKeys(b"t" * 32).draw(
        "grid:1", DAY, "residents"
    )
    assert published(4, 0.99) is None
    assert published(5, 0.0) == 5
    assert published(6, 0.0) == 5  # never under 5 once published


def _table(*counts: tuple[str, str, int]) -> CountTable:
    return CountTable(
        level="grid",
        figures=("residents",),
        units=tuple(Unit(key=k, counts=(n,), group=g) for k, g, n in counts),
    )


def test_a_lone_small_cell_gets_a_complement_in_its_village_and_in_the_town() -> None:
    table = _table(("a1", "a", 3), ("a2", "a", 40), ("a3", "a", 9), ("b1", "b", 50))
    shown = protect(table, DAY, KEYS)
    assert shown["a1"] == [None]
    assert shown["a3"] == [None]  # the smallest other grid of village a
    assert shown["a2"][0] is not None
    assert shown["b1"][0] is not None
    # two small cells already: nothing more to hide
    table = _table(("a1", "a", 3), ("a2", "a", 2), ("a3", "a", 9), ("b1", "b", 50))
    assert protect(table, DAY, KEYS)["a3"][0] is not None


def test_the_town_total_does_not_give_back_a_lone_hidden_village() -> None:
    table = CountTable(
        level="village",
        figures=("residents",),
        units=(Unit("v1", (2,)), Unit("v2", (30,)), Unit("v3", (17,))),
    )
    shown = protect(table, DAY, KEYS)
    assert shown["v1"] == [None]
    assert shown["v3"] == [None]
    assert shown["v2"][0] is not None


def test_a_small_primary_hides_the_whole_row() -> None:
    table = CountTable(
        level="grid",
        figures=("households", "quarantine"),
        units=(Unit("a", (4, 4)), Unit("b", (4, 0)), Unit("c", (90, 20))),
    )
    shown = protect(table, DAY, KEYS)
    assert shown["a"] == [None, None]
    assert shown["c"][0] is not None


def test_a_village_made_of_one_grid_publishes_the_grids_figures() -> None:
    grid = CountTable("grid", ("residents",), (Unit("9900100101", (263,), grids=("9900100101",)),))
    village = CountTable(
        "village", ("residents",), (Unit("99001001", (263,), grids=("9900100101",)),)
    )
    assert protect(grid, DAY, KEYS)["9900100101"] == protect(village, DAY, KEYS)["99001001"]


def test_a_kept_table_is_the_one_of_its_counts_day_and_secret() -> None:
    """Protected tables are kept per process: asked again, each answer is still the one
    computed afresh for its own counts, day and secret, and a caller's changes stay its own."""
    units = tuple(
        Unit(key=f"g{i:03}", counts=(i % 23, i % 7), group=f"v{i // 10}") for i in range(200)
    )
    table = CountTable(level="grid", figures=("residents", "fever"), units=units)
    first = protect(table, DAY, KEYS)
    assert first == tables._protect(table, DAY, KEYS)
    first["g010"][0] = 12345  # the caller's copy
    assert protect(table, DAY, KEYS) == tables._protect(table, DAY, KEYS)
    # one count moved by one: the table of the new counts, not the kept one
    moved = CountTable(
        level="grid",
        figures=("residents", "fever"),
        units=(Unit("g000", (21, 0), group="v0"), *units[1:]),
    )
    assert moved != table
    assert protect(moved, DAY, KEYS) == tables._protect(moved, DAY, KEYS)
    assert protect(moved, DAY, KEYS) != protect(table, DAY, KEYS)
    # another day, another secret
    other_day = DAY + timedelta(days=1)
    assert protect(table, other_day, KEYS) == tables._protect(table, other_day, KEYS)
    assert protect(table, other_day, KEYS) != protect(table, DAY, KEYS)
    other_keys = CellKeys(b"t" * 32)
    assert protect(table, DAY, other_keys) == tables._protect(table, DAY, other_keys)
    assert protect(table, DAY, other_keys) != protect(table, DAY, KEYS)
    assert other_keys.fingerprint == CellKeys(b"t" * 32).fingerprint != KEYS.fingerprint


def test_a_closed_day_is_frozen_on_first_use(conn: Connection) -> None:
    day = town_today() - timedelta(days=2)
    calls: list[int] = []

    def count(n: int) -> CountTable:
        calls.append(n)
        return _table(("g1", "v", n), ("g2", "v", 50))

    first = publish(conn, name="t", figures=("residents",), scope="town", day=day,
                    count=lambda: count(30))  # fmt: skip
    again = publish(conn, name="t", figures=("residents",), scope="town", day=day,
                    count=lambda: count(31))  # fmt: skip
    assert first == again
    assert calls == [30]  # a record added later for that day changes nothing published
    with pytest.raises(DBAPIError, match="frozen"), conn.begin_nested():
        conn.execute(text("UPDATE published_tables SET units = '{}'"))
    # today is not frozen: it follows the records
    today = [
        publish(
            conn,
            name="t",
            figures=("residents",),
            scope="town",
            day=None,
            count=functools.partial(count, n),
        )[1]["g1"][0]
        for n in (30, 80)
    ]
    assert today[0] != today[1]


def test_hexagons_finer_than_the_limit_are_refused_for_roles_without_households() -> None:
    analyst = Principal("a", Role.ANALYST)
    check_hex_resolution(analyst, FINEST_HEX_RESOLUTION)
    with pytest.raises(DisclosureError, match=f"at most {FINEST_HEX_RESOLUTION}"):
        check_hex_resolution(analyst, FINEST_HEX_RESOLUTION + 1)
    check_hex_resolution(Principal("c", Role.COMMANDER), 12)
    with pytest.raises(DisclosureError):
        check_hex_resolution(Principal("c", Role.ADMIN), 16)


def test_radii_are_rounded_to_a_few_steps() -> None:
    assert round_radius_m(480) == 500
    assert round_radius_m(501) == 500
    assert round_radius_m(1) == 100
    assert round_radius_m(99_999) == 5000
