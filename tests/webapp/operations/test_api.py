"""The command post's API on the sample town: GET with version and planned changes, PATCH
200/409/400, roles and scope, CSRF, shifts, and two edits of one checkpoint at once."""

from __future__ import annotations

import re
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
from sqlalchemy import text

from tests import conftest
from tests.live_server import serving
from webapp import create_app


@dataclass(frozen=True)
class OpsTown:
    app: Flask
    db: conftest.TestDatabase
    accounts: dict[str, conftest.Account]
    staff: str
    village: str
    other_village: str


@pytest.fixture(scope="module")
def town(throwaway_sample_db: conftest.TestDatabase) -> OpsTown:
    db = throwaway_sample_db
    with db.owner.begin() as c:
        villages = [
            str(v)
            for v in c.execute(
                text(
                    "SELECT v.code FROM villages v WHERE EXISTS (SELECT 1 FROM entrances e"
                    " LEFT JOIN compounds co ON co.id = e.compound_id"
                    " WHERE coalesce(e.village_id, co.village_id) = v.id AND e.state = 'open')"
                    " ORDER BY v.id"
                )
            ).scalars()
        ]
        grid = str(c.execute(text("SELECT code FROM grids ORDER BY id LIMIT 1")).scalar_one())
        staff = c.execute(text("SELECT source_id FROM staff ORDER BY id LIMIT 1")).scalar()
        if staff is None:
            staff = "ops-api-staff"
            c.execute(
                text(
                    "INSERT INTO staff (source_id, name, role, village_id) VALUES"
                    " (:s, 'Duty Officer', 'checkpoint_staff', (SELECT min(id) FROM villages))"
                ),
                {"s": staff},
            )
    accounts = {
        role: conftest.make_account(db, f"ops-{role}", role)
        for role in ("admin", "commander", "planner", "analyst")
    }
    accounts["grid_worker"] = conftest.make_account(
        db, "ops-grid_worker", "grid_worker", grid_codes=(grid,)
    )
    accounts["village_commander"] = conftest.make_account(
        db, "ops-village-commander", "commander", village_codes=(villages[0],)
    )
    accounts["other_commander"] = conftest.make_account(
        db, "ops-other-commander", "commander", village_codes=(villages[-1],)
    )
    app = create_app(db.settings, engine=db.app, admin_engine=db.owner)
    app.config["TESTING"] = True
    return OpsTown(app, db, accounts, str(staff), villages[0], villages[-1])


def _entrance(town: OpsTown, state: str = "open") -> int:
    with town.db.owner.connect() as c:
        found = c.execute(
            text(
                "SELECT e.id FROM entrances e LEFT JOIN compounds co ON co.id = e.compound_id"
                " JOIN villages v ON v.id = coalesce(e.village_id, co.village_id)"
                " WHERE v.code = :v AND e.state::text = :s"
                " AND NOT EXISTS (SELECT 1 FROM entrance_events x WHERE x.entrance_id = e.id"
                " AND x.user_name LIKE 'ops-%') ORDER BY e.id LIMIT 1"
            ),
            {"v": town.village, "s": state},
        ).scalar_one()
    return int(found)


def _checkpoint(town: OpsTown) -> int:
    with town.db.owner.connect() as c:
        return int(
            c.execute(
                text(
                    "SELECT id FROM checkpoints WHERE state = 'active' AND NOT EXISTS"
                    " (SELECT 1 FROM checkpoint_events x WHERE x.checkpoint_id = checkpoints.id"
                    " AND x.user_name LIKE 'ops-%') ORDER BY id LIMIT 1"
                )
            ).scalar_one()
        )


def _as(town: OpsTown, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {town.accounts[who].token}"}


def _body(town: OpsTown, version: int, **more: object) -> dict[str, object]:
    return {
        "state": "sealed",
        "version": version,
        "reason": "a case next door",
        "responsible": town.staff,
    } | more


def test_get_shows_the_version_and_state(town: OpsTown) -> None:
    e = _entrance(town)
    got = town.app.test_client().get(f"/api/v1/entrances/{e}", headers=_as(town, "analyst"))
    assert got.status_code == 200
    body = got.get_json()
    assert body["id"] == e
    assert body["state"] == "open"
    assert body["version"] >= 1
    assert body["planned"] == []


def test_patch_answers_the_new_object_and_version_then_409_when_stale(town: OpsTown) -> None:
    e = _entrance(town)
    client = town.app.test_client()
    seen = client.get(f"/api/v1/entrances/{e}", headers=_as(town, "commander")).get_json()
    done = client.patch(
        f"/api/v1/entrances/{e}", json=_body(town, seen["version"]), headers=_as(town, "commander")
    )
    assert done.status_code == 200
    assert done.get_json()["state"] == "sealed"
    assert done.get_json()["version"] == seen["version"] + 1
    stale = client.patch(
        f"/api/v1/entrances/{e}",
        json=_body(town, seen["version"], state="open"),
        headers=_as(town, "commander"),
    )
    assert stale.status_code == 409
    assert stale.get_json()["current"]["state"] == "sealed"
    assert stale.get_json()["current"]["version"] == seen["version"] + 1


def test_a_planned_change_is_listed_apart_and_replayed_after_its_time(town: OpsTown) -> None:
    e = _entrance(town)
    client = town.app.test_client()
    version = client.get(f"/api/v1/entrances/{e}", headers=_as(town, "admin")).get_json()["version"]
    at = datetime.now(UTC) + timedelta(hours=3)
    done = client.patch(
        f"/api/v1/entrances/{e}",
        json=_body(town, version, effective_at=at.isoformat()),
        headers=_as(town, "admin"),
    ).get_json()
    assert done["state"] == "open"
    assert [p["state"] for p in done["planned"]] == ["sealed"]
    later = (at + timedelta(minutes=1)).isoformat()
    layer = client.get(
        "/api/layers/entrances.geojson",
        query_string={"as_of": later},
        headers=_as(town, "admin"),
    ).get_json()
    state = next(f["properties"]["state"] for f in layer["features"] if f["id"] == e)
    assert state == "sealed"


@pytest.mark.parametrize(
    ("more", "field"),
    [
        ({"responsible": "no-such-person"}, "responsible"),
        ({"state": "ajar"}, "state"),
        ({"effective_at": "2020-01-01T08:00:00+08:00"}, "effective_at"),
        ({"reason": ""}, "reason"),
    ],
)
def test_refusals_are_400_naming_the_field(
    town: OpsTown, more: dict[str, object], field: str
) -> None:
    e = _entrance(town)
    client = town.app.test_client()
    version = client.get(f"/api/v1/entrances/{e}", headers=_as(town, "admin")).get_json()["version"]
    refused = client.patch(
        f"/api/v1/entrances/{e}", json=_body(town, version, **more), headers=_as(town, "admin")
    )
    assert refused.status_code == 400
    assert f"{field}: " in refused.get_json()["message"]
    after = client.get(f"/api/v1/entrances/{e}", headers=_as(town, "admin")).get_json()
    assert after["version"] == version


def test_a_missing_reason_is_400_naming_it(town: OpsTown) -> None:
    e = _entrance(town)
    body = _body(town, 1)
    del body["reason"]
    refused = town.app.test_client().patch(
        f"/api/v1/entrances/{e}", json=body, headers=_as(town, "admin")
    )
    assert refused.status_code == 400
    assert refused.get_json()["message"] == "reason: required"


@pytest.mark.parametrize("role", ["planner", "analyst", "grid_worker"])
def test_roles_without_operate_get_403(town: OpsTown, role: str) -> None:
    e = _entrance(town)
    refused = town.app.test_client().patch(
        f"/api/v1/entrances/{e}", json=_body(town, 1), headers=_as(town, role)
    )
    assert refused.status_code == 403


def test_a_commander_of_another_village_gets_404(town: OpsTown) -> None:
    e = _entrance(town)
    client = town.app.test_client()
    version = client.get(f"/api/v1/entrances/{e}", headers=_as(town, "admin")).get_json()["version"]
    other = client.patch(
        f"/api/v1/entrances/{e}", json=_body(town, version), headers=_as(town, "other_commander")
    )
    assert other.status_code == 404
    own = client.patch(
        f"/api/v1/entrances/{e}",
        json=_body(town, version),
        headers=_as(town, "village_commander"),
    )
    assert own.status_code == 200


def _csrf_token(client: FlaskClient) -> str:
    found = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    )
    assert found
    return found.group(1)


def test_a_session_patch_needs_the_csrf_token(town: OpsTown) -> None:
    e = _entrance(town)
    client = town.app.test_client()
    account = town.accounts["commander"]
    signed_in = client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": _csrf_token(client),
        },
    )
    assert signed_in.status_code == 302
    version = client.get(f"/api/v1/entrances/{e}").get_json()["version"]
    refused = client.patch(f"/api/v1/entrances/{e}", json=_body(town, version))
    assert refused.status_code == 400
    assert "CSRF" in refused.get_json()["message"]
    ok = client.patch(
        f"/api/v1/entrances/{e}",
        json=_body(town, version),
        headers={"X-CSRFToken": _csrf_token(client)},
    )
    assert ok.status_code == 200


def test_a_checkpoint_state_must_be_one_of_its_kind(town: OpsTown) -> None:
    c = _checkpoint(town)
    client = town.app.test_client()
    version = client.get(f"/api/v1/checkpoints/{c}", headers=_as(town, "admin")).get_json()[
        "version"
    ]
    refused = client.patch(
        f"/api/v1/checkpoints/{c}", json=_body(town, version), headers=_as(town, "admin")
    )
    assert refused.status_code == 400
    assert "state: one of active, closed" in refused.get_json()["message"]


def _patch(url: str, token: str, body: dict[str, Any]) -> int:
    asked = urllib.request.Request(  # noqa: S310 (a loopback URL of the test's own server)
        url,
        data=orjson.dumps(body),
        method="PATCH",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(asked, timeout=30) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        with refused:  # its socket closed now, not whenever it is collected
            return int(refused.code)


def test_two_concurrent_edits_of_one_checkpoint_give_one_200_and_one_409(
    town: OpsTown,
) -> None:
    c = _checkpoint(town)
    version = (
        town.app.test_client()
        .get(f"/api/v1/checkpoints/{c}", headers=_as(town, "admin"))
        .get_json()["version"]
    )
    body = _body(town, version, state="closed")
    statuses: list[int] = []
    start = threading.Barrier(2)
    with serving(town.app) as base:

        def edit(who: str) -> None:
            start.wait()
            statuses.append(
                _patch(f"{base}/api/v1/checkpoints/{c}", town.accounts[who].token, body)
            )

        threads = [threading.Thread(target=edit, args=(w,)) for w in ("admin", "commander")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    with town.db.owner.connect() as conn:
        events = conn.execute(
            text(
                "SELECT count(*) FROM checkpoint_events WHERE checkpoint_id = :c"
                " AND reason IS NOT NULL"
            ),
            {"c": c},
        ).scalar()
    assert events == 1


def test_a_person_is_put_on_a_shift_and_taken_off(town: OpsTown) -> None:
    with town.db.owner.begin() as conn:
        # A shift of its own, running now, which a person can still join (moving one of the
        # sample's would run into its people's other shifts at some hours of the day).
        shift = conn.execute(
            text(
                "INSERT INTO checkpoint_shifts (checkpoint_id, starts_at, ends_at, staff_count,"
                " source_id) SELECT c.id, now() - interval '1 hour', now() + interval '7 hours',"
                " 0, 'ops-api-shift-now' FROM checkpoints c WHERE c.village_id IS NOT NULL"
                " ORDER BY c.id LIMIT 1 RETURNING id, (SELECT village_id FROM checkpoints"
                " WHERE id = checkpoint_id) AS village_id"
            )
        ).one()
        conn.execute(
            text(
                "INSERT INTO staff (source_id, name, role, village_id) VALUES"
                " ('ops-api-on-shift', 'On Shift', 'checkpoint_staff', :v)"
            ),
            {"v": shift.village_id},
        )
    client = town.app.test_client()
    url = f"/api/v1/shifts/{shift.id}/staff"
    version = client.get(f"/api/v1/shifts/{shift.id}", headers=_as(town, "admin")).get_json()[
        "version"
    ]
    ask = {"staff": "ops-api-on-shift", "reason": "cover", "responsible": "ops-api-on-shift"}
    refused = client.post(url, json=ask | {"version": version}, headers=_as(town, "planner"))
    assert refused.status_code == 403
    on = client.post(url, json=ask | {"version": version}, headers=_as(town, "admin"))
    assert on.status_code == 200
    assert "ops-api-on-shift" in on.get_json()["staff"]
    stale = client.delete(url, json=ask | {"version": version}, headers=_as(town, "admin"))
    assert stale.status_code == 409
    off = client.delete(
        url, json=ask | {"version": on.get_json()["version"]}, headers=_as(town, "admin")
    )
    assert off.status_code == 200
    assert "ops-api-on-shift" not in off.get_json()["staff"]
