"""The commanders' map's test town: the small test town with a building of households in
each of two grids, committed and served; the tile over it; browser helpers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from shapely import box
from sqlalchemy import Connection, insert, text

from geodata import models as m
from geodata import vocab
from tests import conftest
from tests.paths import SCREENSHOTS
from tests.webapp.map.vector_tiles import tile_of
from tests.webapp.small_town_data import SmallTown, insert_test_town
from webapp import create_app

PREFIX = "commander-test:"
BUILDING_A1 = box(114.3020, 30.5840, 114.3024, 30.5844)
BUILDING_A2 = box(114.3070, 30.5840, 114.3074, 30.5844)
PAGE_LIMIT_BYTES = 300 * 1024


# -- the town: the small test town, a building with households in each of two grids -------


@dataclass(frozen=True)
class CommanderTown:
    town: SmallTown
    buildings: tuple[int, int]


def _scope(conn: Connection, grid_ids: tuple[int, ...]) -> None:
    conn.execute(
        text("SELECT set_config('wangge.grid_ids', :ids, true)"),
        {"ids": ",".join(str(g) for g in grid_ids)},
    )


def insert_buildings(conn: Connection, town: SmallTown) -> tuple[int, int]:
    _scope(conn, town.grid_ids)
    ids = []
    for grid_id, shape, households in (
        (town.grid_ids[0], BUILDING_A1, 2),
        (town.grid_ids[1], BUILDING_A2, 3),
    ):
        building = conn.execute(
            insert(m.Building)
            .values(
                source_id=f"{PREFIX}building/{grid_id}",
                name=f"Building of grid {grid_id}",
                floors=6,
                grid_id=grid_id,
                geom=text(f"ST_GeomFromText('{shape.wkt}', 4326)"),
            )
            .returning(m.Building.id)
        ).scalar_one()
        ids.append(int(building))
        for n in range(households):
            conn.execute(
                insert(m.Household).values(
                    source_id=f"{PREFIX}household/{grid_id}/{n}",
                    building_id=building,
                    grid_id=grid_id,
                    members=2,
                    status=vocab.HouseholdStatus.NORMAL,
                )
            )
    return ids[0], ids[1]


@dataclass(frozen=True)
class Served:
    """The commander town committed to a database, its accounts and the app over it."""

    town: CommanderTown
    accounts: dict[str, conftest.Account]
    app: Flask


def serve_town(database: conftest.TestDatabase) -> Served:
    with database.owner.begin() as conn:
        small = insert_test_town(conn)
        buildings = insert_buildings(conn, small)
    accounts = {
        "commander": conftest.make_account(database, "cmd-commander", "commander"),
        "worker": conftest.make_account(
            database, "cmd-worker", "grid_worker", grid_codes=("WT-A1",)
        ),
    }
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return Served(CommanderTown(small, buildings), accounts, app)


def client_for(app: Flask, account: conftest.Account) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {account.token}"
    return client


TOWN_TILE = tile_of(114.305, 30.5842, 15)


# -- in the browser ----------------------------------------------------------------------


def until(page: Any, expression: str, *, timeout_s: float = 10.0) -> None:
    """Poll `expression` from outside the page (the page's CSP forbids eval inside it)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {expression}")
        page.wait_for_timeout(50)


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"commander-{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
