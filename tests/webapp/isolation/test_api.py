"""The isolation API on the sample town, through the app's own role and row security: the
beds free now and at a past moment (a commander counts the beds other villages' people hold),
the proposal of a commander holding the people of their villages only, audited by ids, roles
refused, a 409 when a bed is taken meanwhile (nothing written), and two applies at once that
never put more people in a site than its beds, nor two in one bed."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from geodata.records import isolation as records
from tests import conftest
from tests.live_server import serving
from webapp import create_app

WAITING_PER_VILLAGE = 25


@dataclass(frozen=True)
class Town:
    app: Flask
    db: conftest.TestDatabase
    accounts: dict[str, conftest.Account]
    villages: tuple[str, str]
    waiting: dict[str, set[str]]
    """The residents sent to isolation here, per village code."""


def _send(conn: Connection, village: str, n: int) -> set[str]:
    """Concentrated quarantines from an hour ago of `n` residents of the village, without one."""
    rows = conn.execute(
        text(
            "INSERT INTO quarantines (resident_id, grid_id, type, reason, starts_at, ends_at)"
            " SELECT r.id, coalesce(r.grid_id, h.grid_id), 'concentrated', 'close_contact',"
            " now() - interval '1 hour', now() + interval '13 days' FROM residents r"
            " JOIN households h ON h.id = r.household_id JOIN grids g ON g.id = h.grid_id"
            " JOIN villages v ON v.id = g.village_id WHERE v.code = :v"
            " AND h.building_id IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM quarantines q WHERE q.resident_id = r.id)"
            " ORDER BY r.id LIMIT :n RETURNING resident_id"
        ),
        {"v": village, "n": n},
    ).scalars()
    ids = list(rows)
    return set(
        conn.execute(
            text("SELECT source_id FROM residents WHERE id = ANY(:ids)"), {"ids": ids}
        ).scalars()
    )


@pytest.fixture(scope="module")
def town(throwaway_sample_db: conftest.TestDatabase) -> Town:
    db = throwaway_sample_db
    with db.owner.begin() as c:
        first, second = (
            str(v)
            for v in c.execute(
                text(
                    "SELECT v.code FROM villages v WHERE (SELECT count(*) FROM households h"
                    " JOIN grids g ON g.id = h.grid_id WHERE g.village_id = v.id) > 200"
                    " ORDER BY v.code LIMIT 2"
                )
            ).scalars()
        )
        waiting = {v: _send(c, v, WAITING_PER_VILLAGE) for v in (first, second)}
        assert [len(w) for w in waiting.values()] == [WAITING_PER_VILLAGE] * 2
        grid = str(c.execute(text("SELECT code FROM grids ORDER BY id LIMIT 1")).scalar_one())
    accounts = {
        "admin": conftest.make_account(db, "iso-admin", "admin"),
        "commander": conftest.make_account(db, "iso-cmd", "commander", village_codes=(first,)),
        "other": conftest.make_account(db, "iso-other", "commander", village_codes=(second,)),
        "planner": conftest.make_account(db, "iso-planner", "planner"),
        "worker": conftest.make_account(db, "iso-worker", "grid_worker", grid_codes=(grid,)),
    }
    app = create_app(db.settings, engine=db.app, admin_engine=db.owner)
    app.config["TESTING"] = True
    return Town(app, db, accounts, (first, second), waiting)


def _as(town: Town, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {town.accounts[who].token}"}


def _client(town: Town) -> FlaskClient:
    return town.app.test_client()


def _residents_of(town: Town, village: str) -> set[str]:
    with town.db.owner.connect() as c:
        return set(
            c.execute(
                text(
                    "SELECT r.source_id FROM residents r JOIN quarantines q"
                    " ON q.resident_id = r.id JOIN grids g ON g.id = q.grid_id"
                    " JOIN villages v ON v.id = g.village_id WHERE v.code = :v"
                ),
                {"v": village},
            ).scalars()
        )


def _open_assignments(town: Town) -> list[Any]:
    with town.db.owner.connect() as c:
        return list(
            c.execute(
                text(
                    "SELECT a.bed_id, a.resident_id, b.site_id, r.reserve FROM bed_assignments a"
                    " JOIN isolation_beds b ON b.id = a.bed_id"
                    " JOIN isolation_rooms r ON r.id = b.room_id"
                    " WHERE a.starts_at <= now() AND (a.ends_at IS NULL OR a.ends_at > now())"
                )
            ).all()
        )


def test_planners_and_grid_workers_may_not_assign(town: Town) -> None:
    c = _client(town)
    for who in ("planner", "worker"):
        for url in ("/api/v1/isolation/assign", "/api/v1/isolation/assign/apply"):
            assert c.post(url, json={}, headers=_as(town, who)).status_code == 403
        assert c.get("/api/v1/isolation/beds", headers=_as(town, who)).status_code == 200
    assert c.post("/api/v1/isolation/assign", json={}).status_code == 401
    bad = c.post("/api/v1/isolation/assign", json={"keep_families": "yes"},
                 headers=_as(town, "admin"))  # fmt: skip
    assert bad.status_code == 400
    assert "keep_families" in bad.get_json()["message"]
    listed = c.post("/api/v1/isolation/assign", json=[1], headers=_as(town, "admin"))
    assert listed.status_code == 400
    unknown = c.post("/api/v1/isolation/assign", json={"keep_family": True},
                     headers=_as(town, "admin"))  # fmt: skip
    assert unknown.status_code == 400


def test_beds_now_and_at_a_past_moment_for_everyone_alike(town: Town) -> None:
    c = _client(town)
    now = c.get("/api/v1/isolation/beds", headers=_as(town, "admin")).get_json()
    (site,) = now["sites"]
    assert {k: site[k] for k in ("beds", "reserve_beds", "taken", "free", "free_reserve")} == {
        "beds": 130, "reserve_beds": 10, "taken": 86, "free": 34, "free_reserve": 10,
    }  # fmt: skip
    # the commander's own grids hold none of those 86 beds' people: row security by grid
    # hides their assignments, yet the beds count as taken
    assert c.get("/api/v1/isolation/beds", headers=_as(town, "commander")).get_json()["sites"] == [
        site
    ]
    with town.db.owner.connect() as conn:
        first = conn.execute(text("SELECT min(starts_at) FROM bed_assignments")).scalar_one()
    before = (first - timedelta(minutes=1)).isoformat()
    past = c.get("/api/v1/isolation/beds", query_string={"at": before},
                 headers=_as(town, "planner")).get_json()  # fmt: skip
    assert (past["sites"][0]["taken"], past["sites"][0]["free"]) == (0, 120)
    assert datetime.fromisoformat(past["at"]) == first - timedelta(minutes=1)
    day = c.get("/api/v1/isolation/beds?at=2020-01-01", headers=_as(town, "admin")).get_json()
    assert day["sites"][0]["taken"] == 0
    for hostile in ("yesterday", "%00", "a%0d%0ab", "1e400", "9" * 5000, "99999-01-01", ""):
        bad = c.get(f"/api/v1/isolation/beds?at={hostile}", headers=_as(town, "admin"))
        assert bad.status_code == 400, hostile
        assert bad.get_json()["message"].startswith("at: ")


def test_a_commander_is_proposed_the_people_of_their_villages(town: Town) -> None:
    c = _client(town)
    first, second = town.villages
    mine = c.post("/api/v1/isolation/assign", json={"keep_families": True},
                  headers=_as(town, "commander"))  # fmt: skip
    assert mine.status_code == 200, mine.get_json()
    body = mine.get_json()
    assert {"status", "total_distance_m", "assignments"} <= set(body)
    assert body["status"] == "optimal"
    named = {a["resident"] for a in body["assignments"]} | set(body["unplaced"])
    assert town.waiting[first] <= named <= _residents_of(town, first)
    assert not named & town.waiting[second]
    for a in body["assignments"]:
        assert set(a) >= {"resident", "site", "bed", "distance_m"}
        assert a["site"] == "sample:isolation_site/1"
        assert a["bed"].endswith("/1")
    everyone = c.post("/api/v1/isolation/assign", headers=_as(town, "admin")).get_json()
    assert everyone["waiting"] >= 2 * WAITING_PER_VILLAGE
    with town.db.owner.connect() as conn:
        event = conn.execute(
            text(
                "SELECT actor, object_type, object_ids, row_count, detail FROM audit_events"
                " WHERE action = 'isolation_proposal' ORDER BY id LIMIT 1"
            )
        ).one()
        quarantined = set(
            conn.execute(
                text(
                    "SELECT q.id FROM quarantines q JOIN residents r ON r.id = q.resident_id"
                    " WHERE r.source_id = ANY(:r) AND q.status = 'active'"
                ),
                {"r": sorted(named)},
            ).scalars()
        )
    assert (event.actor, event.object_type, event.row_count) == ("iso-cmd", "quarantine",
                                                                  len(named))  # fmt: skip
    assert set(event.object_ids) == quarantined
    assert set(event.detail) == {"keep_families", "use_reserve", "status", "placed", "unplaced"}
    # nothing written by a proposal
    assert len(_open_assignments(town)) == 86


@pytest.fixture
def bed_taken_meanwhile(town: Town, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Between reading the free beds and writing, another writer (one that does not wait for
    the sites' lock) books the first of them from tomorrow on; the list gets that bed's id."""
    read = records.free_beds
    taken: list[int] = []

    def free_beds(conn: Connection, sites: records.Sites, at: datetime) -> records.FreeBeds:
        found = read(conn, sites, at)
        bed = found.ids[0][0]
        with town.db.owner.begin() as other:
            other.execute(
                text(
                    "INSERT INTO bed_assignments (bed_id, resident_id, starts_at)"
                    " SELECT :b, r.id, now() + interval '1 day' FROM residents r"
                    " WHERE NOT EXISTS (SELECT 1 FROM quarantines q WHERE q.resident_id = r.id)"
                    " ORDER BY r.id DESC LIMIT 1"
                ),
                {"b": bed},
            )
        taken.append(bed)
        return found

    monkeypatch.setattr(records, "free_beds", free_beds)
    return taken


def test_a_bed_taken_meanwhile_is_a_409_and_nothing_is_written(
    town: Town, bed_taken_meanwhile: list[int]
) -> None:
    before = _open_assignments(town)
    refused = _client(town).post("/api/v1/isolation/assign/apply", json={},
                                 headers=_as(town, "admin"))  # fmt: skip
    assert refused.status_code == 409, refused.get_json()
    (bed,) = bed_taken_meanwhile
    with town.db.owner.connect() as conn:
        name = conn.execute(
            text("SELECT r.number || '/' || b.label FROM isolation_beds b"
                 " JOIN isolation_rooms r ON r.id = b.room_id WHERE b.id = :b"),
            {"b": bed},
        ).scalar_one()  # fmt: skip
        booked = conn.execute(
            text("SELECT count(*) FROM bed_assignments WHERE bed_id = :b"), {"b": bed}
        ).scalar()
        applied = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'isolation_assign'")
        ).scalar()
    assert (
        f"bed {name} of site sample:isolation_site/1: taken meanwhile"
        in (refused.get_json()["message"])
    )
    assert _open_assignments(town) == before
    assert (booked, applied) == (1, 0)


def _apply(base: str, token: str) -> tuple[int, dict[str, Any]]:
    asked = urllib.request.Request(  # noqa: S310 (a loopback URL of the test's own server)
        f"{base}/api/v1/isolation/assign/apply",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(asked, timeout=60) as answer:  # noqa: S310
            return int(answer.status), orjson.loads(answer.read())
    except urllib.error.HTTPError as refused:
        with refused:  # its socket closed now, not whenever it is collected
            return int(refused.code), orjson.loads(refused.read())


def test_two_applies_at_once_never_overfill_a_site(town: Town) -> None:
    with town.db.owner.connect() as conn:
        free_from_now = len(records.free_beds(conn, records.sites(conn), datetime.now(UTC)).ids[0])
        reserve = int(records.free_beds(conn, records.sites(conn), datetime.now(UTC)).reserve[0])
        beds = int(conn.execute(text("SELECT beds FROM isolation_sites")).scalar_one())
    ordinary_free = free_from_now - reserve
    assert ordinary_free < 2 * WAITING_PER_VILLAGE  # the two villages compete for the beds
    answers: dict[str, tuple[int, dict[str, Any]]] = {}
    start = threading.Barrier(2)
    with serving(town.app) as base:

        def apply(who: str) -> None:
            start.wait()
            answers[who] = _apply(base, town.accounts[who].token)

        threads = [threading.Thread(target=apply, args=(w,)) for w in ("commander", "other")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    statuses = sorted(status for status, _ in answers.values())
    assert statuses == [201, 201], answers
    placed = [a for _, body in answers.values() for a in body["assignments"]]
    # together they filled every ordinary bed left, each bed and person once
    assert len(placed) == ordinary_free
    assert len({a["bed"] for a in placed}) == len({a["resident"] for a in placed}) == len(placed)
    first, second = town.villages
    assert {a["resident"] for a in answers["commander"][1]["assignments"]} <= _residents_of(
        town, first
    )
    assert {a["resident"] for a in answers["other"][1]["assignments"]} <= _residents_of(
        town, second
    )
    held = _open_assignments(town)
    assert len({h.bed_id for h in held}) == len(held)
    assert len({h.resident_id for h in held}) == len(held)
    with town.db.owner.connect() as conn:
        ordinary_held_or_booked = conn.execute(
            text(
                "SELECT count(*) FROM isolation_beds_taken(now(), true) t"
                " JOIN isolation_beds b ON b.id = t.bed_id"
                " JOIN isolation_rooms r ON r.id = b.room_id WHERE NOT r.reserve"
            )
        ).scalar()
        used = conn.execute(text("SELECT beds_used FROM isolation_sites")).scalar()
    assert ordinary_held_or_booked == beds  # every ordinary bed, none more, no reserve one
    assert not any(h.reserve for h in held)
    assert used == len(held)  # the bed booked from tomorrow is not used yet
