"""The coverage report answered from its per-grid cache equals the report counted household
by household from the records (the function the cache keeps): now and at a moment before
some visits, for two windows, for the town and one grid's worker, with and without roads;
and again after a visit, a household moved and a checkpoint closed. A write between the
cache's refresh and its reading is never answered from the cache: a visit then has its grid's
visits counted from the records, the rest of the report still from the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, text

from geodata.analysis.coverage import coverage_report
from geodata.auth.access import Principal
from geodata.auth.rls import apply_scope
from geodata.records import coverage_cache
from geodata.records.coverage_inputs import fetch_inputs
from geodata.services.coverage import coverage_for
from geodata.vocab import Role
from tests import conftest

COMMANDER = Principal("commander", Role.COMMANDER)


def _worker(db: conftest.TestDatabase) -> Principal:
    with db.owner.connect() as conn:
        grid = conn.execute(text("SELECT min(grid_id) FROM households")).scalar_one()
    return Principal("worker", Role.GRID_WORKER, grid_ids=frozenset({int(grid)}))


def _cached(db: conftest.TestDatabase, who: Principal, **kw: Any) -> dict[str, Any]:
    with db.app.connect() as conn, conn.begin():
        return coverage_for(conn, who, level="grid", **kw)


def _counted(db: conftest.TestDatabase, who: Principal, **kw: Any) -> dict[str, Any]:
    with db.app.connect() as conn, conn.begin():
        apply_scope(conn, who)
        inputs = fetch_inputs(conn, as_of=kw["as_of"], grid_ids=who.grid_ids)
        return coverage_report(
            inputs,
            level="grid",
            radius_m=kw.get("radius_m"),
            network=kw.get("network", False),
            screening_hours=kw["window_h"],
        )


def _same(db: conftest.TestDatabase, cases: list[tuple[Principal, datetime, float, bool]]) -> None:
    for who, as_of, window_h, network in cases:
        kw = {"as_of": as_of, "window_h": window_h, "network": network}
        assert _cached(db, who, **kw) == _counted(db, who, **kw), (who.name, kw)


def _uses_cache(db: conftest.TestDatabase, as_of: datetime) -> bool:
    with db.app.connect() as conn, conn.begin():
        inputs = coverage_cache.town_inputs(conn, as_of=as_of, grid_ids=None)
        apply_scope(conn, COMMANDER)
        return coverage_cache.household_counts(conn, inputs) is not None


def test_the_cache_answers_as_the_records_do(own_sample_db: conftest.TestDatabase) -> None:
    db = own_sample_db
    with db.owner.connect() as conn:
        last = conn.execute(text("SELECT max(visited_at) FROM visits")).scalar_one()
    now = datetime.now(UTC)
    before = last - timedelta(hours=30)  # some grids have visits after it: counted as of it
    worker = _worker(db)
    _same(
        db,
        [
            (COMMANDER, now, 24.0, False),
            (COMMANDER, before, 7 * 24.0, False),
            (worker, before, 24.0, False),
            (worker, now, 7 * 24.0, True),
        ],
    )
    assert _uses_cache(db, now)

    with db.owner.begin() as conn:  # a visit: only its grid's visits are read again
        conn.execute(
            text(
                "INSERT INTO visits (source_id, household_id, grid_id, visited_at, result)"
                " SELECT 'cache-test', h.id, h.grid_id, :at, 'seen_all' FROM households h"
                " ORDER BY h.id LIMIT 1"
            ),
            {"at": now - timedelta(minutes=5)},
        )
    with db.app.begin() as conn:
        done = coverage_cache.refresh(
            conn,
            coverage_cache.town_inputs(conn, as_of=now, grid_ids=None),
            coverage_cache.cache_key(
                coverage_cache.town_inputs(conn, as_of=now, grid_ids=None),
                radius_m=None,
                network=False,
            ),
            radius_m=None,
            network=False,
        )
    assert done == {"structural": 0, "visits": 1}
    _same(db, [(COMMANDER, datetime.now(UTC), 24.0, False), (worker, now, 24.0, False)])

    leaks_before = _cached(db, COMMANDER, as_of=datetime.now(UTC), window_h=24.0)["town"]
    with db.owner.begin() as conn:  # structure: a household moved, a checkpoint closed, roads
        conn.execute(
            text(
                "DELETE FROM roads WHERE id IN (SELECT r.id FROM roads r JOIN villages v"
                " ON ST_Crosses(r.geom, ST_Boundary(v.geom)) ORDER BY r.id LIMIT 20)"
            )
        )
        conn.execute(  # every open entrance of compounds sealed: the kept entrances are stale
            text(
                "INSERT INTO entrance_events (entrance_id, at, from_state, to_state)"
                " SELECT id, now() - interval '1 minute', state, 'sealed' FROM entrances"
                " WHERE state = 'open' AND compound_id IS NOT NULL"
            )
        )
        conn.execute(
            text(
                "UPDATE entrances SET state = 'sealed', since = now() - interval '1 minute'"
                " WHERE state = 'open' AND compound_id IS NOT NULL"
            )
        )
        conn.execute(
            text(
                "UPDATE households SET building_id = (SELECT max(building_id) FROM households)"
                " WHERE id = (SELECT min(id) FROM households)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO checkpoint_events (checkpoint_id, kind, at, from_state, to_state)"
                " SELECT id, 'state', now() - interval '1 minute', 'active', 'closed'"
                " FROM checkpoints ORDER BY id LIMIT 1"
            )
        )
    _same(db, [(COMMANDER, datetime.now(UTC), 24.0, False)])
    leaks_after = _cached(db, COMMANDER, as_of=datetime.now(UTC), window_h=24.0)["town"]
    assert leaks_after["leaks"] != leaks_before["leaks"]  # the crossings kept were not reused
    # nor the entrances kept: no compound has an open entrance any more
    assert leaks_after["compounds_no_open_entrance"] == leaks_after["compounds"]
    assert leaks_before["compounds_no_open_entrance"] < leaks_before["compounds"]


def test_a_write_after_the_refresh_is_counted_from_the_records(
    own_sample_db: conftest.TestDatabase,
) -> None:
    db = own_sample_db
    now = datetime.now(UTC)
    assert _uses_cache(db, now)
    with db.app.connect() as conn, conn.begin():
        inputs = coverage_cache.town_inputs(conn, as_of=now, grid_ids=None)
        apply_scope(conn, COMMANDER)
        with db.app.begin() as town:
            key = coverage_cache.cache_key(inputs, radius_m=None, network=False)
            coverage_cache.refresh(town, inputs, key, radius_m=None, network=False)
        with db.owner.begin() as writer:
            written = writer.execute(
                text("UPDATE households SET last_visited_at = now() WHERE id = (SELECT min(id)"
                     " FROM households) RETURNING grid_id")
            ).scalar_one()  # fmt: skip
        rows = conn.execute(
            text(coverage_cache.READ_SQL),
            {"k": key, "as_of": now, "window": 86400.0, "day": 86400.0},
        ).all()
        with db.owner.connect() as owner:
            grids = owner.execute(text("SELECT count(*) FROM grids")).scalar_one()
        assert len(rows) == grids  # the structural figures of every grid stand
        # the written grid's kept visits are no longer answered, every other grid's are
        assert {r.grid_id for r in rows if not r.holds} == {written}


def test_a_visit_between_the_refresh_and_the_reading(
    own_sample_db: conftest.TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visit recorded after the refresh, before the figures are read: the report still
    comes from the cache, its grid's visits counted from the records."""
    db = own_sample_db
    now = datetime.now(UTC)
    refresh = coverage_cache.refresh
    visited: list[int] = []

    def refresh_then_visit(conn: Connection, *args: Any, **kw: Any) -> dict[str, int]:
        done = refresh(conn, *args, **kw)
        with db.owner.begin() as writer:  # a household never visited, seen 5 minutes ago
            visited.append(
                writer.execute(
                    text(
                        "INSERT INTO visits (source_id, household_id, grid_id, visited_at,"
                        " result) SELECT 'between', h.id, h.grid_id, :at, 'seen_all'"
                        " FROM households h WHERE h.last_visited_at IS NULL"
                        " ORDER BY h.id LIMIT 1 RETURNING grid_id"
                    ),
                    {"at": now - timedelta(minutes=5)},
                ).scalar_one()
            )
        return done

    counts = coverage_cache.household_counts
    answers: list[object] = []

    def recorded(*args: Any, **kw: Any) -> object:
        answers.append(counts(*args, **kw))
        return answers[-1]

    monkeypatch.setattr(coverage_cache, "refresh", refresh_then_visit)
    monkeypatch.setattr("geodata.services.coverage.household_counts", recorded)
    cached = _cached(db, COMMANDER, as_of=now, window_h=24.0)
    monkeypatch.undo()
    assert visited
    assert answers
    assert answers[0] is not None  # answered from the cache
    # the cache's figures of the visited grid, as refreshed, would count the household as
    # never visited
    assert cached == _counted(db, COMMANDER, as_of=now, window_h=24.0)


def test_the_villages_grids_and_roads_kept_until_a_structural_write(
    own_sample_db: conftest.TestDatabase,
) -> None:
    db = own_sample_db
    now = datetime.now(UTC)
    _cached(db, COMMANDER, as_of=now, window_h=24.0)  # a report over the kept frames
    with db.app.connect() as conn, conn.begin():
        kept = coverage_cache.town_inputs(conn, as_of=now, grid_ids=None)
        fresh = fetch_inputs(conn, as_of=now, grid_ids=frozenset())
    for name in ("villages", "grids", "roads"):  # the reports left them as they were read
        pd.testing.assert_frame_equal(getattr(kept, name), getattr(fresh, name))
    with db.owner.begin() as conn:
        grid = conn.execute(
            text("UPDATE grids SET name = 'renamed' WHERE id = (SELECT min(id) FROM grids)"
                 " RETURNING id")
        ).scalar_one()  # fmt: skip
    with db.app.connect() as conn, conn.begin():
        grids = coverage_cache.town_inputs(conn, as_of=now, grid_ids=None).grids
    assert grids.loc[grids["id"] == grid, "name"].tolist() == ["renamed"]


def test_no_cache_for_a_household_without_grid(own_sample_db: conftest.TestDatabase) -> None:
    with own_sample_db.owner.begin() as conn:
        conn.execute(text("UPDATE households SET grid_id = NULL WHERE id = (SELECT min(id)"
                          " FROM households)"))  # fmt: skip
    assert not _uses_cache(own_sample_db, datetime.now(UTC))
