"""Enterprises, reviews, passes and publicity points over HTTP: lists scoped to the caller's
villages, refusals as 400 naming the record, field and reason with nothing changed, a role
that may not as 403, another village's enterprise as 404, passes masked unless revealed by
right."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from geodata.records import enterprises, publicity, quarantines, risk_areas
from geodata.records.enterprise_reviews import CHECKLIST
from geodata.records.enterprises import EnterpriseFields
from geodata.records.placed import Where
from tests import conftest
from tests import factories as f
from webapp import create_app

ACCOUNTS = (("admin", "admin", ()), ("cmd1", "commander", ("V1",)),
            ("cmd2", "commander", ("V2",)), ("ana", "analyst", ()))  # fmt: skip


def _at(x: float, y: float) -> Where:
    return Where(lon=f.ORIGIN[0] + x * f.KM_LON, lat=f.ORIGIN[1] + y * f.KM_LAT)


@pytest.fixture(scope="module")
def town(throwaway_db: conftest.TestDatabase) -> tuple[Flask, dict[str, str]]:
    db = throwaway_db
    with db.owner.begin() as c:
        one = f.village(c, "V1", f.square(0, 0, 1, 1))
        two = f.village(c, "V2", f.square(1, 0, 2, 1))
        grid = f.grid(c, one, "G1", f.square(0, 0, 1, 1))
        f.grid(c, two, "G2", f.square(1, 0, 2, 1))
        home = f.household(c, "h", None, grid)
        for source in ("r-ok", "r-sick"):
            c.execute(text("INSERT INTO residents (source_id, household_id, grid_id, name)"
                           " VALUES (:s, :h, :g, 'Zhou')"),
                      {"s": source, "h": home, "g": grid})  # fmt: skip
        quarantines.add(c, quarantines.NewQuarantine(
            resident="r-sick", type="home", reason="close_contact",
            start=datetime.now(UTC) - timedelta(days=1)), actor="t")  # fmt: skip
        risk_areas.add(c, "WH", name="Wuhan", from_day=date(2026, 1, 20), until_day=None,
                       actor="t")  # fmt: skip
        for source, where in (("e-1", _at(0.5, 0.5)), ("e-2", _at(1.5, 0.5))):
            enterprises.add(c, source, EnterpriseFields(
                name=f"Plant {source}", kind="factory", responsible="Wu", staff_total=10,
                staff_local=5, risk_staff={"WH": 2}, where=where))  # fmt: skip
        publicity.upsert(c, "pp-1", publicity.PointFields(
            kind="banner", content="wear a mask", put_up_on=date(2026, 2, 1),
            where=_at(0.2, 0.2)), now=datetime.now(UTC))  # fmt: skip
    tokens = {}
    for name, role, villages in ACCOUNTS:
        tokens[name] = conftest.make_account(db, f"api-{name}", role, village_codes=villages).token
    return create_app(db.settings, engine=db.app, admin_engine=db.owner), tokens


def _call(town: tuple[Flask, dict[str, str]], who: str, method: str, url: str,
          body: dict[str, Any] | None = None) -> tuple[int, Any]:  # fmt: skip
    app, tokens = town
    auth = {"Authorization": f"Bearer {tokens[who]}"}
    with app.test_client().open(url, method=method, json=body, headers=auth) as answer:
        return answer.status_code, answer.get_json()


def test_reviews_and_passes_over_http(town: tuple[Flask, dict[str, str]]) -> None:
    status, body = _call(town, "cmd1", "GET", "/api/v1/enterprises")
    assert (status, [e["enterprise"] for e in body["enterprises"]]) == (200, ["e-1"])
    early = {"number": "H-1", "enterprise": "e-1", "resident": "r-ok",
             "valid_from": "2026-02-10", "valid_until": "2026-03-10"}  # fmt: skip
    status, body = _call(town, "cmd1", "POST", "/api/v1/passes", early)
    assert status == 400
    assert body["message"] == "pass 'H-1': enterprise: 'e-1' is not approved to resume (pending)"
    status, _ = _call(town, "cmd2", "POST", "/api/v1/enterprises/e-1/reviews",
                      {"decision": "approved", "met": list(CHECKLIST)})  # fmt: skip
    assert status == 404
    status, _ = _call(town, "ana", "POST", "/api/v1/enterprises/e-1/reviews",
                      {"decision": "approved", "met": list(CHECKLIST)})  # fmt: skip
    assert status == 403
    status, body = _call(town, "cmd1", "POST", "/api/v1/enterprises/e-1/reviews",
                         {"decision": "maybe", "met": []})  # fmt: skip
    assert status == 400
    assert body["message"] == (
        "review of enterprise 'e-1': decision: 'maybe': one of approved, conditional, refused"
    )
    status, body = _call(town, "cmd1", "POST", "/api/v1/enterprises/e-1/reviews",
                         {"decision": "approved", "met": list(CHECKLIST),
                          "reviewed_on": "2026-02-05"})  # fmt: skip
    assert (status, body["state"]) == (201, "approved")
    status, body = _call(town, "ana", "GET", "/api/v1/enterprise-reviews?enterprise=e-1")
    assert (status, [r["decision"] for r in body["reviews"]]) == (200, ["approved"])
    sick = {**early, "number": "H-2", "resident": "r-sick"}
    status, body = _call(town, "cmd1", "POST", "/api/v1/passes", sick)
    assert (status, body["message"]) == (
        400,
        "pass 'H-2': resident: 'r-sick' is in active quarantine",
    )
    status, body = _call(town, "cmd1", "POST", "/api/v1/passes", early)
    assert (status, body["outcome"]) == (201, "inserted")
    other = {**early, "number": "H-3", "resident": None, "name": "Qin Shi",
             "id_number": "110101199003077777"}  # fmt: skip
    assert _call(town, "admin", "POST", "/api/v1/passes", other)[0] == 201
    status, body = _call(town, "cmd1", "GET", "/api/v1/passes")
    assert [(p["number"], p["name"], p["id_number"]) for p in body["passes"]] == [
        ("H-1", None, None), ("H-3", "Q******", "1101**********7777")]  # fmt: skip
    status, body = _call(town, "cmd1", "GET", "/api/v1/passes?reveal=1")
    assert body["passes"][1]["id_number"] == "110101199003077777"
    assert _call(town, "ana", "GET", "/api/v1/passes")[0] == 403
    assert _call(town, "cmd2", "GET", "/api/v1/passes")[1] == {"passes": []}


def test_publicity_points_and_risk_areas_over_http(town: tuple[Flask, dict[str, str]]) -> None:
    status, body = _call(town, "cmd1", "GET", "/api/v1/publicity-points?unchecked=1")
    assert (status, [p["point"] for p in body["points"]]) == (200, ["pp-1"])
    status, body = _call(town, "cmd1", "POST", "/api/v1/publicity-points/pp-1/checks",
                         {"at": "2099-01-01T00:00:00+08:00"})  # fmt: skip
    assert status == 400
    assert "is in the future" in body["message"]
    assert _call(town, "cmd2", "POST", "/api/v1/publicity-points/pp-1/checks")[0] == 404
    assert _call(town, "cmd1", "POST", "/api/v1/publicity-points/pp-1/checks")[0] == 201
    assert _call(town, "cmd1", "GET", "/api/v1/publicity-points?unchecked=1")[1]["points"] == []
    status, body = _call(town, "ana", "GET", "/api/v1/risk-areas")
    assert (status, [a["code"] for a in body["risk_areas"]]) == (200, ["WH"])
    assert _call(town, "ana", "GET", "/api/v1/enterprises?state=nope")[0] == 400
