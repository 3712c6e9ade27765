"""Coverage of patrols against a shapely computation, and the report as of a past moment."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from sqlalchemy import Connection, text

from geodata.analysis.coverage import coverage_report
from geodata.records.coverage_inputs import fetch_inputs
from tests.geodata.analysis.coverage_support import (
    _rows,
    _transformer,
)

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
    """Households and road length inside a patrol zone with people on a shift in its period
    (06:00-18:00 by day, 18:00-06:00 by night, of the duty day holding the moment), per grid
    and for the town. One night zone's people are taken off its shifts, so it patrols
    nothing; one day zone loses its team but keeps its shifts, so it still patrols."""
    unstaffed = sample_conn.execute(
        text(
            "SELECT z.id, z.name, v.code FROM patrol_zones z JOIN villages v"
            " ON v.id = z.village_id WHERE z.period = 'night' ORDER BY z.id LIMIT 1"
        )
    ).one()
    sample_conn.execute(
        text(
            "DELETE FROM shift_staff WHERE shift_id IN"
            " (SELECT id FROM checkpoint_shifts WHERE patrol_zone_id = :z)"
        ),
        {"z": unstaffed.id},
    )
    unteamed = sample_conn.execute(
        text(
            "UPDATE patrol_zones AS z SET team_id = NULL FROM villages AS v"
            " WHERE v.id = z.village_id AND z.id = (SELECT min(id) FROM patrol_zones"
            " WHERE period = 'day') RETURNING z.id, z.name, v.code"
        )
    ).one()
    local = moment.astimezone(ZoneInfo("Asia/Shanghai"))
    duty_day = (local - timedelta(hours=6)).date()
    six = datetime.combine(duty_day, time(6), ZoneInfo("Asia/Shanghai"))
    window = {
        "day": (six, six + timedelta(hours=12)),
        "night": (six + timedelta(hours=12), six + timedelta(hours=24)),
    }
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
                    "SELECT ST_AsBinary(z.geom) FROM patrol_zones z WHERE z.period = :p"
                    " AND EXISTS (SELECT 1 FROM checkpoint_shifts s JOIN shift_staff x"
                    " ON x.shift_id = s.id WHERE s.patrol_zone_id = z.id"
                    " AND s.starts_at < :e AND s.ends_at > :s)",
                    p=period,
                    s=window[period][0],
                    e=window[period][1],
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
        {"id": unteamed.id, "name": unteamed.name, "period": "day", "village": unteamed.code}
    ]
    assert patrol["zones_without_shift"] == 1
    assert patrol["zones_without_shift_items"] == [
        {"id": unstaffed.id, "name": unstaffed.name, "period": "night", "village": unstaffed.code}
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
    # the night zones has nobody on its shifts.
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
