"""The subtraction attacks of a security review, replayed through the app as an analyst or a
planner: no published count is under 5, and no difference of two published results isolates
fewer than 5 people (it is 0, or 5 or more)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import h3  # type: ignore[import-untyped]
import pytest
from flask import Flask
from sqlalchemy import text

from geodata.disclosure.rules import FINEST_HEX_RESOLUTION, SUPPRESS_BELOW
from geodata.exports.layers import LAYERS
from geodata.town_time import TOWN_TIMEZONE
from tests import conftest
from tests.webapp.map.vector_tiles import decode_tile, tile_of
from webapp import create_app

Table = dict[str, dict[str, int | None]]


@dataclass(frozen=True)
class Town:
    app: Flask
    db: conftest.TestDatabase
    tokens: dict[str, str]


def open_town(database: conftest.TestDatabase) -> Town:
    """An account per role without household access, and the app, over `database`."""
    accounts = {
        role: conftest.make_account(database, f"x-{role}", role)
        for role in ("analyst", "planner", "commander")
    }
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return Town(app, database, {k: a.token for k, a in accounts.items()})


@pytest.fixture(scope="module")
def town(throwaway_sample_db: conftest.TestDatabase) -> Town:
    """The sample town in the module's own database (published days are frozen on first use)."""
    return open_town(throwaway_sample_db)


def get(town: Town, role: str, url: str) -> Any:
    client = town.app.test_client()
    return client.get(url, headers={"Authorization": f"Bearer {town.tokens[role]}"})


def csv_table(town: Town, url: str, key: str, role: str = "analyst") -> Table:
    response = get(town, role, url)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    rows = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    return {
        row[key]: {k: (int(v) if v else None) for k, v in row.items() if k in FIGURES}
        for row in rows
    }


FIGURES = frozenset(
    {"residents", "returnees", "close_contacts", "fever", "households", "members",
     "home_quarantine", "vacant", "reached", "screened_24h", "never_visited"}
)  # fmt: skip


def assert_published(table: Table) -> None:
    for unit, figures in table.items():
        for name, value in figures.items():
            assert value is None or (value >= SUPPRESS_BELOW and value % 5 == 0), (unit, name)


def assert_no_one_isolated(a: Table, b: Table) -> int:
    """Every difference of the two tables, cell by cell, is 0 or at least 5 people; the
    number of cells compared."""
    assert_published(a)
    assert_published(b)
    compared = 0
    for unit in a.keys() & b.keys():
        for name, value in a[unit].items():
            other = b[unit].get(name)
            if value is None or other is None:
                continue
            compared += 1
            assert value - other == 0 or abs(value - other) >= SUPPRESS_BELOW, (unit, name)
    return compared


def day(back: int) -> str:
    return (datetime.now(TOWN_TIMEZONE).date() - timedelta(days=back)).isoformat()


def test_as_of_differences_per_hexagon_and_per_grid(town: Town) -> None:
    with town.db.owner.connect() as conn:
        # the attack had something to find: grids that gained 1 to 4 returnees in a day
        gained = conn.execute(
            text("SELECT count(*) FROM (SELECT grid_id FROM residents WHERE returned_on = :d "
                 "GROUP BY grid_id HAVING count(*) BETWEEN 1 AND 4) AS g"), {"d": day(2)}
        ).scalar_one()  # fmt: skip
    assert gained > 0
    fine = get(
        town, "analyst", f"/exports/residents.csv?level=hex&hex_resolution=15&as_of={day(2)}"
    )
    assert fine.status_code == 400
    assert f"at most {FINEST_HEX_RESOLUTION}" in fine.get_data(as_text=True)
    compared = 0
    for level, key in (("hex", "h3"), ("grid", "grid"), ("village", "village_code")):
        tables = [
            csv_table(town, f"/exports/residents.csv?level={level}&as_of={day(back)}", key)
            for back in (1, 2, 3)
        ]
        compared += assert_no_one_isolated(tables[0], tables[1])
        compared += assert_no_one_isolated(tables[1], tables[2])
    assert compared > 100
    today = get(town, "analyst", "/exports/residents.csv?level=hex")
    assert today.status_code == 400  # today: per grid or village only
    assert "closed days" in today.get_data(as_text=True)


def test_a_closed_day_stays_as_first_published(own_sample_db: conftest.TestDatabase) -> None:
    town = open_town(own_sample_db)  # this test adds residents
    url = f"/exports/residents.csv?level=grid&as_of={day(2)}"
    first = csv_table(town, url, "grid")
    with town.db.owner.begin() as conn:
        grid, household = conn.execute(
            text("SELECT grid_id, household_id FROM residents ORDER BY id LIMIT 1")
        ).one()
        for i in range(10):  # enough to move any rounding: only freezing keeps it
            conn.execute(
                text("INSERT INTO residents (source_id, household_id, grid_id, name, returnee, "
                     "origin, returned_on) VALUES (:s, :h, :g, 'Late', true, 'Wuhan', :d)"),
                {"s": f"test:late/{i}", "h": household, "g": grid, "d": day(2)},
            )  # fmt: skip
    assert csv_table(town, url, "grid") == first


def test_bboxes_a_few_metres_apart_choose_the_same_whole_hexagons(town: Town) -> None:
    with town.db.owner.connect() as conn:
        x, y = conn.execute(
            text("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(b.geom)) AS c "
                 "FROM buildings b JOIN households h ON h.building_id = b.id) AS q")
        ).one()  # fmt: skip
    tables = []
    for shift in (0.0, 0.00005, 0.0001):  # 0, about 4 and 8 metres
        box = f"{x - 0.01 + shift},{y - 0.01},{x + 0.01},{y + 0.01 - shift}"
        url = f"/exports/residents.csv?level=hex&hex_resolution=9&as_of={day(1)}&bbox={box}"
        tables.append(csv_table(town, url, "h3"))
    assert tables[0]
    for a in tables[1:]:
        assert assert_no_one_isolated(tables[0], a) > 0
        for cell in a.keys() & tables[0].keys():
            assert a[cell] == tables[0][cell]  # whole cells: the same figures
    grids = [
        csv_table(town, f"/exports/residents.csv?as_of={day(1)}&bbox={x - d},{y - d},{x + d},"
                  f"{y + d}", "grid")
        for d in (0.002, 0.00205)
    ]  # fmt: skip
    for cell in grids[0].keys() & grids[1].keys():
        assert grids[0][cell] == grids[1][cell]


def coverage(town: Town, role: str, query: str) -> dict[str, Any]:
    response = get(town, role, f"/api/v1/coverage?level=grid&{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    report: dict[str, Any] = response.get_json()
    return report


def grid_table(report: dict[str, Any]) -> Table:
    return {g["code"]: {f: g[f] for f in FIGURES if f in g} for g in report["grids"]}


def test_radius_and_moment_are_fixed_to_a_few_steps(town: Town) -> None:
    reports = [coverage(town, "planner", f"radius_m={r}") for r in (480, 500, 520)]
    assert grid_table(reports[0]) == grid_table(reports[1]) == grid_table(reports[2])
    assert reports[0]["radius_m"] == 500
    far = coverage(town, "planner", "radius_m=1000")
    assert assert_no_one_isolated(grid_table(reports[1]), grid_table(far)) > 0
    # moments of one closed day are that day's end; the screening window is fixed
    past = [coverage(town, "analyst", f"as_of={day(1)}T{t}") for t in ("08:00", "08:05", "23:00")]
    assert grid_table(past[0]) == grid_table(past[1]) == grid_table(past[2])
    older = coverage(town, "analyst", f"as_of={day(2)}")
    assert assert_no_one_isolated(grid_table(past[0]), grid_table(older)) > 0
    assert_published({"town": {f: v for f, v in past[0]["town"].items() if f in FIGURES}})


def test_no_household_rows_in_coverage_for_roles_without_households(town: Town) -> None:
    for role in ("planner", "analyst"):
        refused = get(town, role, "/api/v1/coverage?items=never_visited,unreached_households")
        assert refused.status_code == 403
        listed = coverage(town, role, "list=1")
        assert not {"never_visited", "unreached_households", "buildings_without_households"} & set(
            listed["items"]
        )
        assert "leaks" in listed["items"]
    # those who keep households still get their rows and exact figures
    commander = coverage(town, "commander", "items=never_visited")
    assert commander["items"]["never_visited"]
    assert any(g["households"] % 5 for g in commander["grids"])


def test_household_tiles_give_such_roles_published_hexagons_only(town: Town) -> None:
    with town.db.owner.connect() as conn:
        points = conn.execute(
            text("SELECT ST_Y(ST_Centroid(b.geom)), ST_X(ST_Centroid(b.geom)) "
                 "FROM households h JOIN buildings b ON b.id = h.building_id")
        ).all()  # fmt: skip
    true: dict[str, int] = {}
    for lat, lon in points:  # an independent count per cell
        cell = h3.latlng_to_cell(lat, lon, FINEST_HEX_RESOLUTION)
        true[cell] = true.get(cell, 0) + 1
    densest = max(true, key=lambda c: true[c])
    lat, lon = h3.cell_to_latlng(densest)
    seen: dict[str, dict[str, object]] = {}
    for z in (12, 15, 17):
        for role in ("planner", "analyst"):
            zxy = tile_of(lon, lat, z)
            response = get(town, role, "/tiles/households/{}/{}/{}.pbf".format(*zxy))
            assert response.status_code == 200
            features = decode_tile(response.get_data())["households"]
            assert features
            for feature in features:
                assert "building_id" not in feature
                cell = str(feature["h3"])
                assert h3.get_resolution(cell) == FINEST_HEX_RESOLUTION
                count = feature.get("households")
                if true.get(cell, 0) < SUPPRESS_BELOW:
                    assert count is None
                if count is not None:
                    assert isinstance(count, int)
                    assert count % 5 == 0
                    assert abs(count - true[cell]) < 5
                # the same cell gives the same figures at every zoom: nothing to subtract
                assert seen.setdefault(cell, feature) == feature
    assert densest in seen
    commander = get(
        town, "commander", "/tiles/households/{}/{}/{}.pbf".format(*tile_of(lon, lat, 16))
    )
    assert "building_id" in decode_tile(commander.get_data())["households"][0]


def test_pseudonymous_rows_stand_at_their_grid_without_details(town: Town) -> None:
    with town.db.owner.connect() as conn:
        grids = conn.execute(text("SELECT count(*) FROM grids")).scalar_one()
        details = {
            "households": {"unit", "room", "status"},
            "residents": {"returnee", "origin", "returned_on", "close_contact", "fever",
                          "quarantine_until", "name", "id_number", "phone"},
            "visits": {"fever_count"},
        }  # fmt: skip
    for layer, hidden in details.items():
        response = get(town, "analyst", f"/exports/{layer}.geojson?privacy=pseudonymous")
        assert response.status_code == 200
        features = response.get_json()["features"]
        assert features
        assert not hidden & {k for f in features for k in f["properties"]}, layer
        points = {tuple(f["geometry"]["coordinates"]) for f in features}
        assert len(points) <= grids, layer  # one point a grid, not one a building
        admin_view = LAYERS[layer].field_names
        assert hidden - {"name", "id_number", "phone"} <= set(admin_view)
    refused = get(town, "analyst", f"/exports/residents.csv?privacy=pseudonymous&as_of={day(2)}")
    assert refused.status_code == 400
    assert "returned_on" in refused.get_data(as_text=True)
