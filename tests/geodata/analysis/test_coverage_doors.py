"""The coverage report through the command line and the API, in the caller's scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import text

from geodata.analysis.coverage import FIGURES
from geodata.cli import main
from tests import conftest
from tests.geodata.analysis.coverage_support import (
    ITEM_KINDS,
)


# -- the command -----------------------------------------------------------------
def _cli(db: conftest.TestDatabase, *args: str) -> Any:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
    }
    result = CliRunner().invoke(main, ["coverage", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_cli_json_shape(
    throwaway_sample_db: conftest.TestDatabase, report: dict[str, Any], moment: datetime
) -> None:
    out = _cli(throwaway_sample_db, "--as-of", moment.isoformat(), "--list", "--format", "json")
    assert set(out) == {"as_of", "radius_m", "window_h", "town", "villages", "grids", "patrol",
                        "items"}  # fmt: skip
    assert list(out["town"]) == list(FIGURES)
    assert all(list(v) == ["code", "name", *FIGURES] for v in out["villages"])
    assert all({"code", "name", *FIGURES} <= set(g) for g in out["grids"])
    assert set(out["items"]) == ITEM_KINDS
    assert out["window_h"] == 14 * 24  # the town's screening window
    assert {k: v for k, v in out["town"].items() if k != "screened"} == {
        k: v for k, v in report["town"].items() if k != "screened"
    }  # the report fixture screens in 24 h
    assert out["radius_m"] is None
    household = out["items"]["never_visited"][0]
    assert set(household) == {"id", "grid", "building_id", "lon", "lat"}
    short = _cli(throwaway_sample_db, "--radius-m", "250", "--level", "village", "--format", "json")
    assert set(short) == {"as_of", "radius_m", "window_h", "town", "villages", "grids", "patrol"}
    assert short["patrol"]["grids"] == []
    assert [v["code"] for v in short["patrol"]["villages"]] == [
        v["code"] for v in short["villages"]
    ]
    assert short["radius_m"] == 250.0
    assert short["grids"] == []
    assert short["villages"]
    town = _cli(throwaway_sample_db, "--as-of", "2020-01-31", "--level", "town", "--format", "json")
    assert town["villages"] == []
    assert town["as_of"].startswith("2020-01-31T23:59:59")


# -- the API ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def api(throwaway_sample_db: conftest.TestDatabase) -> tuple[Flask, dict[str, str], str]:
    """The app over the sample town in the module's own database, with a token per role."""
    database = throwaway_sample_db
    with database.owner.connect() as conn:
        my_grid = conn.execute(
            text(
                "SELECT g.code FROM grids g WHERE EXISTS (SELECT 1 FROM households h"
                " WHERE h.grid_id = g.id) ORDER BY g.code LIMIT 1"
            )
        ).scalar_one()
    accounts = {
        "commander": conftest.make_account(database, "cov-commander", "commander"),
        "planner": conftest.make_account(database, "cov-planner", "planner"),
        "grid_worker": conftest.make_account(
            database, "cov-worker", "grid_worker", grid_codes=(my_grid,)
        ),
    }
    from webapp import create_app

    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return app, {k: a.token for k, a in accounts.items()}, my_grid


def _get(app: Flask, token: str | None, query: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().get(f"/api/v1/coverage{query}", headers=headers)


def test_api_commander_sees_the_town(
    api: tuple[Flask, dict[str, str], str], report: dict[str, Any], moment: datetime
) -> None:
    app, tokens, _ = api
    answer = _get(
        app,
        tokens["commander"],
        f"?as_of={moment.isoformat()}&list=1&window_h=24".replace("+", "%2B"),
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["window_h"] == 24
    assert body["town"] == report["town"]  # the report fixture screens in 24 h
    assert len(body["grids"]) == len(report["grids"])
    assert set(body["items"]) == ITEM_KINDS
    assert _get(app, tokens["planner"], "?level=town").status_code == 200


def test_api_grid_worker_sees_only_own_grid(
    api: tuple[Flask, dict[str, str], str], moment: datetime
) -> None:
    app, tokens, my_grid = api
    answer = _get(app, tokens["grid_worker"], f"?list=1&as_of={moment.date().isoformat()}")
    assert answer.status_code == 200
    body = answer.get_json()
    assert [g["code"] for g in body["grids"]] == [my_grid]
    assert len(body["villages"]) == 1
    mine = body["grids"][0]
    assert body["town"] == {k: mine[k] for k in FIGURES}
    assert body["villages"][0] == {"code": mine["village"], "name": body["villages"][0]["name"],
                                   **{k: mine[k] for k in FIGURES}}  # fmt: skip
    assert mine["households"] > 0
    for kind, items in body["items"].items():
        assert all(item["grid"] == my_grid for item in items), kind
    listed = {h["id"] for h in body["items"]["never_visited"]} | {
        h["id"] for h in body["items"]["unreached_households"]
    }
    assert listed  # something of the grid is listed, and only of it


def test_api_refuses_strangers_and_bad_input(api: tuple[Flask, dict[str, str], str]) -> None:
    app, tokens, _ = api
    assert _get(app, None).status_code == 401
    assert _get(app, "not-a-token").status_code == 401
    for bad in (
        "?radius_m=-1",
        "?radius_m=x",
        "?as_of=yesterday",
        "?level=planet",
        "?items=leaks,residents",
        "?items=,",
    ):
        assert _get(app, tokens["commander"], bad).status_code == 400, bad


def test_api_lists_only_the_items_asked_for(
    api: tuple[Flask, dict[str, str], str], report: dict[str, Any], moment: datetime
) -> None:
    app, tokens, _ = api
    at = moment.isoformat().replace("+", "%2B")
    leaks = _get(app, tokens["commander"], f"?level=town&items=leaks&as_of={at}&window_h=24")
    assert leaks.status_code == 200
    body = leaks.get_json()
    assert list(body["items"]) == ["leaks"]
    assert body["items"]["leaks"] == report["items"]["leaks"]
    assert body["town"] == report["town"]
    two = _get(app, tokens["commander"], f"?items=never_visited,%20leaks&list=1&as_of={at}")
    assert list(two.get_json()["items"]) == ["never_visited", "leaks"]
    assert "items" not in _get(app, tokens["commander"], "?level=town").get_json()


def test_cli_lists_only_the_items_asked_for(
    throwaway_sample_db: conftest.TestDatabase, moment: datetime
) -> None:
    out = _cli(throwaway_sample_db, "--level", "town", "--items", "leaks", "--format", "json")
    assert list(out["items"]) == ["leaks"]
    assert set(out["patrol"]) >= {"day", "night", "zones_without_team"}


def test_the_screening_window_is_a_parameter_fixed_for_planners(
    api: tuple[Flask, dict[str, str], str], moment: datetime
) -> None:
    app, tokens, _ = api
    at = moment.isoformat().replace("+", "%2B")
    day = _get(app, tokens["commander"], f"?level=town&as_of={at}&window_h=24").get_json()
    fortnight = _get(app, tokens["commander"], f"?level=town&as_of={at}").get_json()
    assert (day["window_h"], fortnight["window_h"]) == (24, 14 * 24)
    assert day["town"]["screened"] == day["town"]["screened_24h"]
    assert fortnight["town"]["screened"] >= day["town"]["screened"]
    assert fortnight["town"]["screened_24h"] == day["town"]["screened_24h"]
    planner = _get(app, tokens["planner"], "?level=town&window_h=1").get_json()
    assert planner["window_h"] == 14 * 24  # fixed for roles without household access
    assert _get(app, tokens["commander"], "?window_h=0").status_code == 400
    assert _get(app, tokens["commander"], "?window_h=x").status_code == 400
