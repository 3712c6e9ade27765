"""`wangge isolation` on the sample town: the beds free now and at a past moment, the
proposal's JSON (status, total metres, one entry per person placed: resident, site, bed as
room/label, metres), `--apply` writing it once, and the roles that may not."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from sqlalchemy import text

from tests.conftest import TestDatabase, make_account
from tests.geodata.cli.test_accounts import invoke


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    make_account(throwaway_sample_db, "iso-cli-planner", "planner")
    return throwaway_sample_db


def test_beds_now_and_before_anyone_came(town: TestDatabase) -> None:
    now = invoke(town, "isolation", "beds", "--format", "json")
    assert now.exit_code == 0, now.output
    assert orjson.loads(now.stdout)["sites"] == [
        {"site": "sample:isolation_site/1", "name": orjson.loads(now.stdout)["sites"][0]["name"],
         "beds": 130, "reserve_beds": 10, "taken": 86, "free": 34, "free_reserve": 10},
    ]  # fmt: skip
    with town.owner.connect() as conn:
        first = conn.execute(text("SELECT min(starts_at) FROM bed_assignments")).scalar_one()
    at = (first - timedelta(seconds=1)).isoformat()
    past = orjson.loads(invoke(town, "isolation", "beds", "--at", at, "--format", "json").stdout)
    assert (past["sites"][0]["taken"], past["sites"][0]["free"]) == (0, 120)
    text_out = invoke(town, "isolation", "beds")
    assert "sample:isolation_site/1\t130\t10\t86\t34\t10" in text_out.stdout
    assert invoke(town, "isolation", "beds", "--at", "soon").exit_code == 1


def test_assign_proposes_then_applies_once(town: TestDatabase) -> None:
    proposed = invoke(town, "isolation", "assign", "--keep-families", "--format", "json")
    assert proposed.exit_code == 0, proposed.output
    body = orjson.loads(proposed.stdout)
    assert {"status", "total_distance_m", "assignments"} <= set(body)
    assert body["status"] == "optimal"
    assert len(body["assignments"]) == 12  # the sample's people waiting, 34 beds free
    for a in body["assignments"]:
        assert {"resident", "site", "bed", "distance_m"} <= set(a)
        assert a["bed"].count("/") == 1
        assert a["distance_m"] > 0
    assert body["total_distance_m"] == pytest.approx(
        sum(a["distance_m"] for a in body["assignments"]), abs=0.1 * len(body["assignments"])
    )
    applied = invoke(town, "isolation", "assign", "--keep-families", "--apply", "--format", "json")
    assert applied.exit_code == 0, applied.output
    done = orjson.loads(applied.stdout)
    assert [(a["resident"], a["bed"]) for a in done["assignments"]] == [
        (a["resident"], a["bed"]) for a in body["assignments"]
    ]
    with town.owner.connect() as conn:
        written = conn.execute(
            text("SELECT count(*) FROM bed_assignments WHERE id = ANY(:ids)"),
            {"ids": done["assignment_ids"]},
        ).scalar()
        used = conn.execute(text("SELECT beds_used FROM isolation_sites")).scalar()
    assert (written, used) == (12, 98)
    again = orjson.loads(invoke(town, "isolation", "assign", "--format", "json").stdout)
    assert again["assignments"] == []
    assert invoke(town, "isolation", "assign").stdout.strip().endswith("0 of 0 placed, 0 m in all")


def test_a_planner_may_count_beds_but_not_assign(town: TestDatabase) -> None:
    assert invoke(town, "--as", "iso-cli-planner", "isolation", "assign").exit_code == 3
    beds = invoke(town, "--as", "iso-cli-planner", "isolation", "beds", "--format", "json")
    assert beds.exit_code == 0, beds.output
