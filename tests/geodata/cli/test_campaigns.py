"""`wangge campaigns` on the sample town: add prints the campaign with its id, list, progress
gives exactly the contract's keys, refusals exit 1 naming the field, a commander is held to
their villages, a planner gets published figures."""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
import pytest
from sqlalchemy import text

from geodata.town_time import TOWN_TIMEZONE
from tests.conftest import TestDatabase, make_account
from tests.geodata.cli.test_accounts import invoke

GRID_KEYS = {"grid", "households", "seen", "people_registered", "people_counted", "behind_pace"}


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    return throwaway_sample_db


def _villages(db: TestDatabase) -> list[str]:
    with db.owner.connect() as conn:
        return [
            str(v) for v in conn.execute(text("SELECT code FROM villages ORDER BY code")).scalars()
        ]


def _day(db: TestDatabase, days_before_last_visit: int) -> str:
    """A town day counted back from the sample's last visit (the sample is dated from the
    day it was loaded)."""
    with db.owner.connect() as conn:
        last: datetime = conn.execute(text("SELECT max(visited_at) FROM visits")).scalar_one()
    return (
        last.astimezone(TOWN_TIMEZONE).date() - timedelta(days=days_before_last_visit)
    ).isoformat()


def test_add_list_progress(town: TestDatabase) -> None:
    first, second = _villages(town)[:2]
    start, deadline, half = _day(town, 4), _day(town, -2), _day(town, 1)
    added = invoke(town, "campaigns", "add", "--name", "春季排查", "--villages",
                   f"{first},{second}", "--start", f"{start}T08:00",
                   "--deadline", f"{deadline}T08:00", "--format", "json")  # fmt: skip
    assert added.exit_code == 0, added.output
    made = orjson.loads(added.stdout)
    assert isinstance(made["id"], int)
    assert (made["name"], made["start"]) == ("春季排查", f"{start}T08:00:00+08:00")
    assert made["grids"]
    assert all(g.startswith((first, second)) for g in made["grids"])
    listed = orjson.loads(invoke(town, "campaigns", "list", "--format", "json").stdout)
    assert made["id"] in {c["id"] for c in listed["campaigns"]}
    shown = invoke(town, "campaigns", "progress", str(made["id"]), "--at", f"{half}T08:00",
                   "--format", "json")  # fmt: skip
    assert shown.exit_code == 0, shown.output
    report = orjson.loads(shown.stdout)
    assert set(report) == {"campaign", "grids"}
    assert report["campaign"]["id"] == made["id"]
    assert report["campaign"]["time_passed"] == 0.5
    assert [g["grid"] for g in report["grids"]] == made["grids"]
    assert all(set(g) == GRID_KEYS for g in report["grids"])
    assert any(g["seen"] > 0 for g in report["grids"])
    text_out = invoke(town, "campaigns", "progress", str(made["id"]))
    assert text_out.exit_code == 0
    assert made["grids"][0] in text_out.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--deadline", "2026-12-01T08:00"), "campaign 'c': deadline: must be after the start"),
        (("--deadline", "2026-11-30T08:00"), "campaign 'c': deadline: must be after the start"),
        (("--deadline", "soon"), "campaign 'c': deadline: a date and time"),
        (("--villages", "nowhere"), "campaign 'c': villages: unknown village nowhere"),
        (("--grids", "none9"), "campaign 'c': scope: villages or grids, not both"),
    ],
)
def test_refusals_exit_1_naming_the_field(
    town: TestDatabase, args: tuple[str, ...], needle: str
) -> None:
    base = {"--name": "c", "--villages": _villages(town)[0], "--start": "2026-12-01T08:00",
            "--deadline": "2026-12-02T08:00"}  # fmt: skip
    given = dict(zip(args[::2], args[1::2], strict=True))
    options = [part for item in (base | given).items() for part in item]
    if "--grids" in given:
        options += ["--villages", base["--villages"]]
    refused = invoke(town, "campaigns", "add", *options)
    assert refused.exit_code == 1, refused.output
    assert needle in refused.output


def test_a_commander_is_held_to_their_villages(town: TestDatabase) -> None:
    mine, theirs = _villages(town)[:2]
    make_account(town, "cmp-commander", "commander", village_codes=(mine,))
    ok = invoke(town, "--as", "cmp-commander", "campaigns", "add", "--name", "own",
                "--villages", mine, "--start", "2026-12-01T08:00",
                "--deadline", "2026-12-03T08:00", "--format", "json")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    refused = invoke(town, "--as", "cmp-commander", "campaigns", "add", "--name", "other",
                     "--villages", theirs, "--start", "2026-12-01T08:00",
                     "--deadline", "2026-12-03T08:00")  # fmt: skip
    assert refused.exit_code == 3
    assert f"villages: outside your villages: {theirs}" in refused.output


def test_a_planner_gets_published_figures(town: TestDatabase) -> None:
    make_account(town, "cmp-planner", "planner")
    everything = ",".join(_villages(town))
    start, deadline = f"{_day(town, 5)}T08:00", f"{_day(town, -2)}T08:00"
    added = invoke(town, "campaigns", "add", "--name", "all", "--villages", everything,
                   "--start", start, "--deadline", deadline, "--format", "json")  # fmt: skip
    made = orjson.loads(added.stdout)
    shown = invoke(town, "--as", "cmp-planner", "campaigns", "progress", str(made["id"]),
                   "--at", f"{_day(town, 2)}T12:00", "--format", "json")  # fmt: skip
    assert shown.exit_code == 0, shown.output
    report = orjson.loads(shown.stdout)
    assert report["campaign"]["figures"] == "published"
    values = [g[k] for g in report["grids"] for k in GRID_KEYS - {"grid", "behind_pace"}]
    assert values
    assert all(v is None or v % 5 == 0 for v in values)
    refused = invoke(town, "--as", "cmp-planner", "campaigns", "add", "--name", "x",
                     "--villages", _villages(town)[0], "--start", "2026-12-01T08:00",
                     "--deadline", "2026-12-02T08:00")  # fmt: skip
    assert refused.exit_code == 3
