"""The planner's edits of patrol zones on a small town (a street grid, tests/patrol_town.py):
a proposal's blocks as GeoJSON, a move rescored equal to a fresh measurement of the same
assignment (and only the zones it changes measured), moves that split or empty a zone
refused with the reason, and the edited zones applied with their audit event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import Connection, text

from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.rescore import changed_zones, measure, move, parts
from geodata.auth.access import Principal, local_operator
from geodata.errors import ConflictError
from geodata.services import patrol_proposals as pp
from geodata.services.patrol_planning import PatrolRefused, TownModel
from geodata.vocab import Role
from tests import conftest
from tests.patrol_town import make_grid_town

K = 3


@pytest.fixture(scope="module")
def town_db(throwaway_db: conftest.TestDatabase) -> conftest.TestDatabase:
    with throwaway_db.owner.begin() as connection:
        make_grid_town(connection)
    return throwaway_db


@pytest.fixture
def conn(town_db: conftest.TestDatabase) -> Iterator[Connection]:
    with town_db.owner.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


@pytest.fixture
def planner() -> Principal:
    return local_operator("planner")


@pytest.fixture
def proposal(conn: Connection, planner: Principal) -> dict[str, Any]:
    return pp.propose(conn, planner, zones=K, period="day")


def _assignment(proposal: dict[str, Any]) -> tuple[list[int], list[int]]:
    feats = proposal["units"]["features"]
    return [f["properties"]["unit"] for f in feats], [f["properties"]["zone"] for f in feats]


def _model(conn: Connection, proposal: dict[str, Any]) -> TownModel:
    return pp._town(conn, proposal["town"], "town")


def _movable(model: TownModel, units: list[int], zones: list[int]) -> tuple[int, int, int]:
    """A block on a zone's border whose move keeps both zones whole: (unit, from, to), 1..k."""
    u, z = np.array(units), np.array(zones) - 1
    zone_of = dict(zip(u.tolist(), z.tolist(), strict=True))
    for a, b in model.town.blocks.pairs.tolist():
        if a in zone_of and b in zone_of and zone_of[a] != zone_of[b]:
            try:
                move(model.town, u, z, a, zone_of[b], K)
            except ValueError:
                continue
            return a, zone_of[a] + 1, zone_of[b] + 1
    raise AssertionError("no block can move")


def test_proposal_gives_blocks_in_lonlat_with_zones_and_workload(
    conn: Connection, proposal: dict[str, Any]
) -> None:
    feats = proposal["units"]["features"]
    assert len(feats) >= 2 * K
    assert {f["properties"]["zone"] for f in feats} == set(range(1, K + 1))
    for f in feats:
        geom = shapely.geometry.shape(f["geometry"])
        lon, lat = geom.representative_point().coords[0]
        assert -180 < lon < 180
        assert -90 < lat < 90
        assert {"households", "road_m", "stops", "hours"} <= set(f["properties"])
    rows = proposal["zones"]
    assert [r["zone"] for r in rows] == list(range(1, K + 1))
    assert sum(r["units"] for r in rows) == len(feats)
    households = sum(f["properties"]["households"] for f in feats)
    assert sum(r["households"] for r in rows) == households == 90  # all of the town's
    hours = [r["hours"] for r in rows]
    assert proposal["hours_max_min"] == pytest.approx(max(hours) / min(hours), rel=1e-3)


@pytest.mark.parametrize("by", ["hours", "households"])
def test_a_proposal_is_measured_as_a_move_is(conn: Connection, planner: Principal, by: str) -> None:
    """Zoning by hours measures its zones as `measure` does (the page takes those figures
    as they are); by households, the page measures them itself."""
    plan = pp.propose(conn, planner, zones=K, period="day", by=by)  # type: ignore[arg-type]
    units, zones = _assignment(plan)
    model = _model(conn, plan)
    fresh = measure(model.town, np.array(units), np.array(zones) - 1, K, Pace())
    for row, f in zip(plan["zones"], fresh, strict=True):
        assert row["hours"] == pytest.approx(f.hours, abs=1e-3)
        assert row["households"] == f.households
        assert row["road_m"] == pytest.approx(f.road_m, abs=0.1)
        assert row["route_m"] == pytest.approx(f.route_m, abs=0.1)
        assert row["pieces"] == f.pieces
        assert row["polsby_popper"] == pytest.approx(f.polsby_popper, abs=1e-4)
        assert row["units"] == f.units


def test_a_move_rescored_equals_a_fresh_measurement_of_the_same_assignment(
    conn: Connection, planner: Principal, proposal: dict[str, Any]
) -> None:
    units, zones = _assignment(proposal)
    model = _model(conn, proposal)
    unit, source, to = _movable(model, units, zones)
    answer = pp.rescore_move(
        conn, planner, town=proposal["town"], period="day", village=None, keep_existing=False,
        units=units, zones=zones, unit=unit, to=to,
    )  # fmt: skip
    assert {source, to} <= set(answer["changed"])
    after = [to if u == unit else z for u, z in zip(units, zones, strict=True)]
    fresh = measure(model.town, np.array(units), np.array(after) - 1, K, Pace())
    for row, f in zip(answer["zones"], fresh, strict=True):
        assert row["hours"] == pytest.approx(f.hours, abs=1e-3)
        assert row["households"] == f.households
        assert row["road_m"] == pytest.approx(f.road_m, abs=0.1)
        assert row["route_m"] == pytest.approx(f.route_m, abs=0.1)
        assert row["pieces"] == f.pieces == 1
        assert row["polsby_popper"] == pytest.approx(f.polsby_popper, abs=1e-4)
        assert row["units"] == f.units
    moved_rows = {r["zone"]: r for r in answer["zones"]}
    before_rows = {r["zone"]: r for r in proposal["zones"]}
    assert moved_rows[source]["units"] == before_rows[source]["units"] - 1
    assert moved_rows[to]["units"] == before_rows[to]["units"] + 1
    # zones the move did not change keep the figures they had
    for z in set(range(1, K + 1)) - set(answer["changed"]):
        assert moved_rows[z] == before_rows[z]
    # and `changed` is what differs between the two assignments, no more
    u = np.array(units)
    assert [
        c + 1 for c in changed_zones(model.town, u, np.array(zones) - 1, np.array(after) - 1)
    ] == answer["changed"]


def test_a_move_that_splits_or_empties_a_zone_is_refused_with_the_reason(
    conn: Connection, planner: Principal, proposal: dict[str, Any]
) -> None:
    units, zones = _assignment(proposal)
    model = _model(conn, proposal)
    u, z = np.array(units), np.array(zones) - 1
    args: dict[str, Any] = {
        "town": proposal["town"], "period": "day", "village": None, "keep_existing": False,
        "units": units, "zones": zones,
    }  # fmt: skip
    # a cut block: its zone without it falls into pieces
    splitter = None
    for zone in range(K):
        members = u[z == zone]
        for m in members.tolist():
            if len(members) > 2 and parts(model.town, members[members != m]) > 1:
                splitter = (m, zone)
                break
        if splitter:
            break
    assert splitter is not None, "a zone of this town has a block that holds it together"
    m, zone = splitter
    other = (zone + 1) % K
    with pytest.raises(PatrolRefused, match=rf"would cut zone {zone + 1} in two pieces"):
        pp.rescore_move(conn, planner, **args, unit=m, to=other + 1)
    # a block far from a zone: it would make that zone a second piece
    for zone in range(K):
        members = u[z == zone]
        touching = {b for a, b in model.town.blocks.pairs.tolist() if a in members} | {
            a for a, b in model.town.blocks.pairs.tolist() if b in members
        }
        far = [x for x in u[z != zone].tolist() if x not in touching]
        for x in far:
            try:
                move(model.town, u, z, x, zone, K)
            except ValueError as refused:
                if f"leave zone {zone + 1} in two pieces" in str(refused):
                    with pytest.raises(PatrolRefused, match="not next to it"):
                        pp.rescore_move(conn, planner, **args, unit=x, to=zone + 1)
                    break
        else:
            continue
        break
    else:
        raise AssertionError("no block lies away from another zone")
    with pytest.raises(PatrolRefused, match=r"in zone \d+ already"):
        pp.rescore_move(conn, planner, **args, unit=units[0], to=zones[0])
    # a zone of one block cannot give it away
    one = np.array([0] * (len(u) - 1) + [1])
    with pytest.raises(ValueError, match="zone 2 would be empty"):
        move(model.town, u, one, int(u[-1]), 0, 2)
    with pytest.raises(ConflictError, match="propose again"):
        pp.rescore_move(
            conn, planner, **{**args, "town": "0" * 32}, unit=units[0], to=zones[0] % K + 1
        )


def test_apply_writes_the_edited_zones_with_an_audit_event(
    conn: Connection, planner: Principal, proposal: dict[str, Any]
) -> None:
    units, zones = _assignment(proposal)
    model = _model(conn, proposal)
    unit, _source, to = _movable(model, units, zones)
    moved = pp.rescore_move(
        conn, planner, town=proposal["town"], period="day", village=None, keep_existing=False,
        units=units, zones=zones, unit=unit, to=to,
    )  # fmt: skip
    after = [to if u == unit else z for u, z in zip(units, zones, strict=True)]
    applied = pp.apply_assignment(
        conn, planner, town=proposal["town"], period="day", by="hours", village=None,
        keep_existing=False, units=units, zones=after,
    )  # fmt: skip
    assert len(applied["applied"]) == K
    assert [r["hours"] for r in applied["zones"]] == [r["hours"] for r in moved["zones"]]
    rows = conn.execute(
        text(
            "SELECT source_id, ST_AsBinary(geom) FROM patrol_zones WHERE period = 'day'"
            " ORDER BY source_id"
        )
    ).all()
    assert [r[0] for r in rows] == [f"plan:day:town:{n}" for n in range(1, K + 1)]
    # the moved block lies in its new zone's outline, not in its old one's
    feature = next(f for f in proposal["units"]["features"] if f["properties"]["unit"] == unit)
    inside = shapely.geometry.shape(feature["geometry"]).representative_point()
    holders = [r[0] for r in rows if shapely.from_wkb(bytes(r[1])).buffer(1e-7).contains(inside)]
    assert holders == [f"plan:day:town:{to}"]
    event = conn.execute(
        text(
            "SELECT actor, row_count, detail->'hours' FROM audit_events"
            " WHERE action = 'plan_patrol_zones' ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert event[0] == planner.name
    assert event[1] == K
    assert event[2] == [r["hours"] for r in moved["zones"]]


def test_bad_assignments_are_refused_and_nothing_is_written(
    conn: Connection, planner: Principal, proposal: dict[str, Any]
) -> None:
    units, zones = _assignment(proposal)
    base: dict[str, Any] = {
        "town": proposal["town"],
        "period": "day",
        "by": "hours",
        "village": None,
        "keep_existing": False,
    }
    before = conn.execute(text("SELECT count(*) FROM patrol_zones")).scalar_one()
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"units": units[:-1], "zones": zones[:-1]}, ConflictError, "not the street blocks"),
        ({"units": units, "zones": zones[:-1]}, PatrolRefused, "street blocks, "),
        ({"units": [units[0], *units[:-1]], "zones": zones}, PatrolRefused, "listed twice"),
        ({"units": units, "zones": [z if z < K else K + 1 for z in zones]}, PatrolRefused,
         f"zone {K} has no street blocks"),
        ({"units": units, "zones": [0, *zones[1:]]}, PatrolRefused, "numbers from 1"),
        ({"units": units, "zones": zones, "period": "dusk"}, PatrolRefused, "day or night"),
    ]  # fmt: skip
    for change, error, reason in cases:
        with pytest.raises(error, match=reason):
            pp.apply_assignment(conn, planner, **{**base, **change})
    assert conn.execute(text("SELECT count(*) FROM patrol_zones")).scalar_one() == before
    analyst = Principal(name="analyst", role=Role.ANALYST)
    from geodata.auth.access import ForbiddenError

    with pytest.raises(ForbiddenError):
        pp.apply_assignment(conn, analyst, **base, units=units, zones=zones)


def test_the_town_model_is_kept_until_the_roads_change(
    conn: Connection, proposal: dict[str, Any]
) -> None:
    first = pp._town(conn, proposal["town"], "town")
    assert pp._town(conn, proposal["town"], "town") is first
    conn.execute(text("UPDATE roads SET name = name WHERE id = (SELECT min(id) FROM roads)"))
    assert pp.town_fingerprint(conn) != proposal["town"]
