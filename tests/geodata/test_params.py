"""Request parameters checked once (geodata.params): the plan API and `wangge plan` refuse the
same bad inputs naming the same field; pagers clamp a large limit and refuse a bad one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from click.testing import CliRunner
from flask import Flask

from geodata import params
from geodata.cli import main
from tests import conftest
from webapp.factory import create_app

BAD_PLANS: list[tuple[dict[str, object], list[str], str]] = [
    ({"budget": -1, "radius_m": 500}, ["--budget", "-1", "--radius-m", "500"], "budget: "),
    ({"budget": 5, "radius_m": 0}, ["--budget", "5", "--radius-m", "0"], "radius_m: "),
    ({"budget": 5, "radius_m": 1e9}, ["--budget", "5", "--radius-m", "1e9"], "radius_m: "),
    ({"radius_m": 500}, ["--radius-m", "500"], "budget or staff_budget: "),
    (
        {"budget": 5, "radius_m": 500, "time_limit_s": 3600},
        ["--budget", "5", "--radius-m", "500", "--time-limit-s", "3600"],
        "time_limit_s: ",
    ),
    (
        {"budget": 5, "radius_m": 500, "shifts": 0},
        ["--budget", "5", "--radius-m", "500", "--shifts", "0"],
        "shifts: ",
    ),
    (
        {"budget": 5, "radius_m": 500, "share": 1.5},
        ["--budget", "5", "--radius-m", "500", "--share", "1.5"],
        "share: ",
    ),
    (
        {"budget": 5, "radius_m": 500, "model": "pmedian"},
        ["--budget", "5", "--radius-m", "500", "--model", "pmedian"],
        "model: mclp or lscp",
    ),
    (
        {"budget": 5, "radius_m": 500, "weight": "people"},
        ["--budget", "5", "--radius-m", "500", "--weight", "people"],
        "weight: members or households",
    ),
    (
        {"staff_budget": 10**9, "radius_m": 500},
        ["--staff-budget", str(10**9), "--radius-m", "500"],
        "staff_budget: ",
    ),
]
"""The same bad plan as a JSON body and as options, and how the refusal must begin."""


@dataclass(frozen=True)
class Served:
    app: Flask
    db: conftest.TestDatabase
    admin: conftest.Account


@pytest.fixture(scope="module")
def served(throwaway_db: conftest.TestDatabase) -> Served:
    app = create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )
    admin = conftest.make_account(throwaway_db, "params-admin", "admin")
    return Served(app, throwaway_db, admin)


def _api(served: Served, path: str, body: object | None = None) -> tuple[int, str, object]:
    client = served.app.test_client()
    auth = {"Authorization": f"Bearer {served.admin.token}"}
    if body is None:
        answer = client.get(path, headers=auth)
    else:
        answer = client.post(path, json=body, headers=auth)
    found = answer.get_json()
    return answer.status_code, found.get("message", "") if isinstance(found, dict) else "", found


@pytest.mark.parametrize(("body", "options", "start"), BAD_PLANS)
def test_the_api_and_the_command_line_refuse_a_bad_plan_alike(
    served: Served, body: dict[str, object], options: list[str], start: str
) -> None:
    status, message, _ = _api(served, "/api/v1/plan/checkpoints", body)
    assert status == 400
    assert message.startswith(start), message
    env = {
        "WANGGE_DATABASE_URL": served.db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": served.db.settings.admin_database_url or "",
    }
    result = CliRunner().invoke(main, ["plan", "checkpoints", *options], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr == f"wangge: {message}\n"


@pytest.mark.parametrize(("body", "options", "start"), BAD_PLANS)
def test_a_refusal_never_repeats_the_value(
    body: dict[str, object], options: list[str], start: str
) -> None:
    sent = {**body, "budget": body.get("budget", "x-sent-value-x")}
    if "budget" not in body:
        sent = {**body, "greedy": "x-sent-value-x"}
    with pytest.raises(params.RequestError) as refused:
        params.validate(params.PlanParams, sent)
    assert "x-sent-value-x" not in str(refused.value)
    assert str(refused.value).split(": ")[0] in (*body, "budget or staff_budget", "greedy")


def test_a_good_plan_reads_as_the_analysis_request() -> None:
    asked = params.validate(
        params.PlanParams, {"budget": 5.0, "radius_m": 300, "keep_existing": None}
    )
    request = asked.plan_request(default_time_limit_s=params.DEFAULT_TIME_LIMIT_S)
    assert (request.budget, request.radius_m, request.keep_existing) == (5, 300.0, False)
    assert (request.shifts, request.staff_per_shift, request.share) == (3, 2, 1.0)
    assert request.time_limit_s == params.DEFAULT_TIME_LIMIT_S
    assert asked.plan_request().time_limit_s is None  # the command line's: no limit


@pytest.mark.parametrize(
    ("site", "start"),
    [
        (3, "site 2: an object"),
        ({"lon": "a", "lat": 1}, "site 2: lon and lat are numbers"),
        ({"lon": 200, "lat": 1}, "site 2: not a longitude/latitude"),
        ({"lon": 1, "lat": 1, "kind": "tank"}, "site 2: kind is one of"),
        ({"lon": 1, "lat": 1, "id": True}, "site 2: id is a string"),
    ],
)
def test_a_bad_site_is_named_by_its_place(site: object, start: str) -> None:
    good = {"lon": 1, "lat": 1}
    with pytest.raises(params.RequestError) as refused:
        params.validate(params.ScoreParams, {"sites": [good, site]})
    assert str(refused.value).startswith(start)


# -- pagers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, (100, 0)),
        ({"limit": "", "offset": " "}, (100, 0)),
        ({"limit": "7", "offset": "+3"}, (7, 3)),
        ({"limit": "1000"}, (1000, 0)),
        ({"limit": "1001"}, (1000, 0)),
        ({"limit": "9" * 30}, (1000, 0)),
    ],
)
def test_a_page_clamps_a_large_limit(query: dict[str, str], expected: tuple[int, int]) -> None:
    page = params.page(query, default_limit=100, max_limit=1000)
    assert (page.limit, page.offset) == expected


@pytest.mark.parametrize(
    ("query", "start"),
    [
        ({"limit": "0"}, "limit: "),
        ({"limit": "-5"}, "limit: "),
        ({"limit": "x"}, "limit: "),
        ({"limit": "2.0"}, "limit: "),
        ({"offset": "-1"}, "offset: "),
        ({"offset": "1e3"}, "offset: "),
        ({"offset": "9" * 20}, "offset: "),
    ],
)
def test_a_page_refuses_a_bad_limit_or_offset(query: dict[str, str], start: str) -> None:
    with pytest.raises(params.RequestError) as refused:
        params.page(query, default_limit=100, max_limit=1000)
    assert str(refused.value).startswith(start)


def test_the_households_pager_clamps_and_refuses(served: Served) -> None:
    status, _, body = _api(served, "/api/v1/households?limit=5000&offset=2")
    assert status == 200
    assert isinstance(body, dict)
    assert (body["limit"], body["offset"]) == (1000, 2)
    for query, name in (("limit=0", "limit"), ("limit=-1", "limit"), ("offset=-1", "offset")):
        status, message, _ = _api(served, f"/api/v1/households?{query}")
        assert status == 400, query
        assert message.startswith(f"{name}: "), message


# -- boxes and days ------------------------------------------------------------------------


def test_bbox_and_as_of() -> None:
    where = params.filters({"bbox": "116,39,117,40", "as_of": "2026-03-01"})
    assert where.bbox is not None
    assert (where.bbox.min_lon, where.bbox.max_lat) == (116.0, 40.0)
    assert where.as_of is not None
    assert (where.as_of.date(), where.as_of.hour) == (date(2026, 3, 1), 23)
    assert params.day_filters({"as_of": "2026-03-01"}).as_of == date(2026, 3, 1)
    assert params.filters({"bbox": None, "as_of": " "}).as_of is None
    for args, start in (
        ({"bbox": ""}, "bbox: "),
        ({"bbox": "10,0,5,1"}, "bbox: "),
        ({"bbox": "nan,0,1,1"}, "bbox: "),
        ({"as_of": "yesterday<b>"}, "as_of: an ISO date or date-time"),
        ({"as_of": "9999-12-31"}, "as_of: an ISO date or date-time"),
    ):
        with pytest.raises(params.RequestError) as refused:
            params.filters(args)
        assert str(refused.value).startswith(start)
        assert "<b>" not in str(refused.value)
    with pytest.raises(params.RequestError, match=r"^as_of: a date as YYYY-MM-DD$"):
        params.day_filters({"as_of": "2026-03-01T10:00"})
