"""Campaigns through their service: who may create them (commanders within their villages),
whose grids progress shows, exact figures for roles that see households and published ones
(multiples of 5 or withheld) for planners and analysts, and the audit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, text

from geodata.auth.access import ForbiddenError, Principal
from geodata.disclosure.rules import ROUNDING_BASE
from geodata.errors import NotFoundError
from geodata.records import campaigns as records
from geodata.records.campaigns import NewCampaign
from geodata.samples.town.campaign import NAME as SAMPLE_CAMPAIGN
from geodata.services import campaigns as service
from geodata.vocab import Role
from tests.geodata.records.test_campaigns import give_people_seen, last_visit

ADMIN = Principal(name="boss", role=Role.ADMIN)
PLANNER = Principal(name="plan", role=Role.PLANNER)
ANALYST = Principal(name="ana", role=Role.ANALYST)
FIGURES = ("households", "seen", "people_registered", "people_counted")


def village_grids(conn: Connection) -> dict[str, dict[str, int]]:
    """Each village's grids, code to id."""
    found: dict[str, dict[str, int]] = {}
    for village, code, gid in conn.execute(
        text(
            "SELECT v.code, g.code, g.id FROM grids g JOIN villages v ON v.id = g.village_id"
            " ORDER BY g.code"
        )
    ):
        found.setdefault(str(village), {})[str(code)] = int(gid)
    return found


def commander_of(grids: dict[str, int]) -> Principal:
    return Principal(name="wang", role=Role.COMMANDER, grid_ids=frozenset(grids.values()))


def audits(conn: Connection, action: str) -> int:
    return int(
        conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = :a"), {"a": action}
        ).scalar_one()
    )


def _new(name: str, start: datetime, **scope: tuple[str, ...]) -> NewCampaign:
    return NewCampaign(name, start, start + timedelta(days=7), **scope)


def test_a_commander_creates_campaigns_over_their_villages_only(sample_conn: Connection) -> None:
    by_village = village_grids(sample_conn)
    mine, theirs = sorted(by_village)[:2]
    wang = commander_of(by_village[mine])
    start = datetime(2031, 3, 1, 8)
    made = service.add(sample_conn, wang, _new("mine", start, villages=(mine,)))
    assert made["grids"] == sorted(by_village[mine])
    assert "grid_ids" not in made
    assert audits(sample_conn, "campaign_add") == 1
    with pytest.raises(ForbiddenError, match=f"villages: outside your villages: {theirs}"):
        service.add(sample_conn, wang, _new("theirs", start, villages=(mine, theirs)))
    other_grid = sorted(by_village[theirs])[0]
    mixed = (sorted(by_village[mine])[0], other_grid)
    with pytest.raises(ForbiddenError, match=f"grids: outside your villages: {other_grid}"):
        service.add(sample_conn, wang, _new("mixed", start, grids=mixed))
    with pytest.raises(ForbiddenError):
        service.add(sample_conn, PLANNER, _new("plan", start, villages=(mine,)))
    count = sample_conn.execute(
        text("SELECT count(*) FROM campaigns WHERE name <> :sample"), {"sample": SAMPLE_CAMPAIGN}
    ).scalar_one()
    assert count == 1  # the sample town's own campaign aside
    assert audits(sample_conn, "campaign_add") == 1


def test_progress_is_scoped_to_the_principals_grids(sample_conn: Connection) -> None:
    by_village = village_grids(sample_conn)
    mine, theirs = sorted(by_village)[:2]
    start = last_visit(sample_conn) - timedelta(days=3)
    both = service.add(sample_conn, ADMIN, _new("both", start, villages=(mine, theirs)))
    other = service.add(sample_conn, ADMIN, _new("other", start, villages=(theirs,)))
    wang = commander_of(by_village[mine])
    at = start + timedelta(days=2)
    report = service.progress(sample_conn, wang, both["id"], at=at)
    assert [g["grid"] for g in report["grids"]] == sorted(by_village[mine])
    assert report["campaign"]["figures"] == "exact"
    exact = records.progress(sample_conn, both["id"], at)
    expected = [
        {k: v for k, v in g.items() if k != "village"}
        for g in exact["grids"]
        if g["grid"] in by_village[mine]
    ]
    assert report["grids"] == expected
    assert set(report["grids"][0]) == {"grid", *FIGURES, "behind_pace"}
    with pytest.raises(NotFoundError):
        service.progress(sample_conn, wang, other["id"], at=at)
    with pytest.raises(NotFoundError):
        service.progress(sample_conn, ADMIN, 2**70, at=at)
    listed = service.list_campaigns(sample_conn, wang)
    assert [c["id"] for c in listed if c["name"] != SAMPLE_CAMPAIGN] == [both["id"]]
    planned = service.list_campaigns(sample_conn, PLANNER)
    assert {c["id"] for c in planned if c["name"] != SAMPLE_CAMPAIGN} == {both["id"], other["id"]}
    assert audits(sample_conn, "campaign_progress") == 1


@pytest.mark.parametrize("who", [PLANNER, ANALYST])
def test_planners_and_analysts_get_published_figures(
    sample_conn: Connection, who: Principal
) -> None:
    give_people_seen(sample_conn)
    by_village = village_grids(sample_conn)
    start = last_visit(sample_conn) - timedelta(days=3)
    made = service.add(sample_conn, ADMIN, _new("sweep", start, villages=tuple(by_village)))
    at = start + timedelta(days=2)
    published = service.progress(sample_conn, who, made["id"], at=at)
    assert published["campaign"]["figures"] == "published"
    # A past moment is fixed to the end of its (closed) day for them.
    as_of = datetime.fromisoformat(published["campaign"]["as_of"])
    assert as_of.date() == at.date()
    assert (as_of.hour, as_of.minute) == (23, 59)
    exact = service.progress(sample_conn, ADMIN, made["id"], at=as_of)
    assert [g["grid"] for g in published["grids"]] == [g["grid"] for g in exact["grids"]]
    share = records.time_share(
        datetime.fromisoformat(published["campaign"]["start"]),
        datetime.fromisoformat(published["campaign"]["deadline"]),
        datetime.fromisoformat(published["campaign"]["as_of"]),
    )
    differs = 0
    for shown, true in zip(published["grids"], exact["grids"], strict=True):
        for figure in FIGURES:
            value = shown[figure]
            assert value is None or (value % ROUNDING_BASE == 0 and value >= ROUNDING_BASE)
            assert value is None or abs(value - true[figure]) < ROUNDING_BASE
            differs += value != true[figure]
        if shown["seen"] is None or shown["households"] is None:
            assert shown["behind_pace"] is None
        else:
            assert shown["behind_pace"] == (shown["seen"] / shown["households"] < share)
    assert differs > 0  # rounded or withheld, not the true counts
    # A closed day is frozen: asking again gives the same figures.
    again = service.progress(sample_conn, who, made["id"], at=at)
    assert again["grids"] == published["grids"]
    with pytest.raises(ForbiddenError):
        service.add(sample_conn, who, _new("no", start, villages=tuple(by_village)))


def test_a_moment_without_zone_is_the_towns(sample_conn: Connection) -> None:
    by_village = village_grids(sample_conn)
    start = datetime(2031, 3, 1, 8)
    made = service.add(sample_conn, ADMIN, _new("tz", start, villages=(sorted(by_village)[0],)))
    report = service.progress(sample_conn, ADMIN, made["id"], at=datetime(2031, 3, 2, 8))
    assert report["campaign"]["as_of"] == "2031-03-02T08:00:00+08:00"
    assert report["campaign"]["time_passed"] == pytest.approx(1 / 7, abs=1e-4)
