"""Responsible people in the map's popups and in the grid list, over the sample town: a
village's commander sees names and masked phones in the village, a planner sees neither,
objects of other villages are not shown, and no phone digit beyond the mask is sent or
logged. The browser test clicks a compound and a grid; screenshot:
screenshots/commander-responsible.png."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page
from sqlalchemy import Connection, text

from tests import conftest
from tests.live_server import serving
from tests.paths import SCREENSHOTS
from tests.webapp.map.commander_town import until
from tests.webapp.map.test_browser import visit
from webapp import create_app


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    phone: str

    @property
    def masked(self) -> str:
        return self.phone[:3] + "*" * (len(self.phone) - 7) + self.phone[-4:]


@dataclass(frozen=True)
class Town:
    """The sample town's first village with two grids or more, its people, and one object
    of another village for each level."""

    village: int
    village_code: str
    grids: dict[str, tuple[int, Person]]
    """By code: the grid's id and its leader."""
    secretary: Person
    compound: int
    compound_name: str
    yard_head: Person
    building: int
    building_head: Person
    building_point: tuple[float, float]
    grid_point: tuple[float, float]
    """A point of the village's first grid under no compound."""
    other_grid: int
    other_village: int
    other_compound: int
    other_building_point: tuple[float, float]

    @property
    def people(self) -> list[Person]:
        leaders = [leader for _, leader in self.grids.values()]
        return [self.secretary, self.yard_head, self.building_head, *leaders]


def _person(conn: Connection, staff_id: int) -> Person:
    row = conn.execute(
        text("SELECT id, name, phone FROM staff WHERE id = :id"), {"id": staff_id}
    ).one()
    return Person(int(row.id), str(row.name), str(row.phone))


def _building_in(conn: Connection, village: int, *, same: bool) -> Any:
    return conn.execute(
        text(
            "SELECT b.id, b.head_id, c.id AS compound, c.name AS compound_name,"
            " c.head_id AS yard_head,"
            " ST_X(ST_PointOnSurface(b.geom)) AS lon, ST_Y(ST_PointOnSurface(b.geom)) AS lat"
            " FROM buildings AS b JOIN grids AS g ON g.id = b.grid_id"
            " JOIN compounds AS c ON c.id = b.compound_id"
            " WHERE (g.village_id = :v) = :same"
            " AND b.head_id IS NOT NULL AND c.head_id IS NOT NULL AND c.name IS NOT NULL"
            # a household not seen in the town's screening window: the map draws its bubble
            " AND (NOT :same OR EXISTS (SELECT 1 FROM households AS h WHERE h.building_id = b.id"
            " AND (h.last_visited_at IS NULL OR h.last_visited_at < now() - interval '14 days')))"
            " ORDER BY ST_Area(c.geom) DESC, b.id LIMIT 1"
        ),
        {"v": village, "same": same},
    ).one()


def read_town(conn: Connection) -> Town:
    v = conn.execute(
        text(
            "SELECT v.id, v.code, v.secretary_id FROM villages AS v"
            " WHERE (SELECT count(*) FROM grids AS g WHERE g.village_id = v.id) >= 2"
            " ORDER BY v.code LIMIT 1"
        )
    ).one()
    grids = conn.execute(
        text("SELECT id, code, leader_id FROM grids WHERE village_id = :v ORDER BY code"),
        {"v": v.id},
    ).all()
    mine, other = _building_in(conn, v.id, same=True), _building_in(conn, v.id, same=False)
    free = conn.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(ST_Difference(g.geom,"
            " (SELECT ST_Buffer(ST_Union(c.geom)::geography, 30)::geometry FROM compounds AS c"
            "  WHERE ST_Intersects(c.geom, g.geom)))) AS p FROM grids AS g WHERE g.id = :g) AS q"
        ),
        {"g": grids[0].id},
    ).one()
    other_grid = conn.execute(
        text("SELECT id, village_id FROM grids WHERE village_id <> :v ORDER BY code LIMIT 1"),
        {"v": v.id},
    ).one()
    return Town(
        village=int(v.id),
        village_code=str(v.code),
        grids={str(g.code): (int(g.id), _person(conn, g.leader_id)) for g in grids},
        secretary=_person(conn, v.secretary_id),
        compound=int(mine.compound),
        compound_name=str(mine.compound_name),
        yard_head=_person(conn, mine.yard_head),
        building=int(mine.id),
        building_head=_person(conn, mine.head_id),
        building_point=(float(mine.lon), float(mine.lat)),
        grid_point=(float(free[0]), float(free[1])),
        other_grid=int(other_grid.id),
        other_village=int(other_grid.village_id),
        other_compound=int(other.compound),
        other_building_point=(float(other.lon), float(other.lat)),
    )


@dataclass(frozen=True)
class Served:
    app: Flask
    town: Town
    accounts: dict[str, conftest.Account]


@pytest.fixture(scope="module")
def served(throwaway_sample_db: conftest.TestDatabase) -> Served:
    database = throwaway_sample_db
    with database.owner.connect() as conn:
        town = read_town(conn)
    accounts = {
        "commander": conftest.make_account(
            database, "people-commander", "commander", village_codes=(town.village_code,)
        ),
        "planner": conftest.make_account(database, "people-planner", "planner"),
        "analyst": conftest.make_account(database, "people-analyst", "analyst"),
    }
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return Served(app, town, accounts)


def _client(served: Served, who: str) -> FlaskClient:
    client = served.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {served.accounts[who].token}"
    return client


def _get(client: FlaskClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, (url, response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"
    return orjson.loads(response.get_data())


def _at(point: tuple[float, float]) -> str:
    return f"/api/layers/buildings/responsible?at={point[0]:.7f},{point[1]:.7f}"


def _answers(client: FlaskClient, town: Town) -> dict[str, Any]:
    """Every popup's answer about the village's objects, by what it is."""
    found = {
        f"grid {code}": _get(client, f"/api/layers/grids/{grid_id}/responsible")
        for code, (grid_id, _) in town.grids.items()
    }
    found["village"] = _get(client, f"/api/layers/villages/{town.village}/responsible")
    found["compound"] = _get(client, f"/api/layers/compounds/{town.compound}/responsible")
    found["building"] = _get(client, f"/api/layers/buildings/{town.building}/responsible")
    found["building at"] = _get(client, _at(town.building_point))["building"]["head"]
    return found


def assert_no_phone_beyond_the_mask(body: str, people: list[Person]) -> None:
    """No phone whole, and every phone shown keeps only its first 3 and last 4 digits (the
    hidden digits are looked for in phone values, not in codes that happen to hold them)."""
    shown = re.findall(r'"phone":\s*"([^"]*)"', body)
    for person in people:
        assert person.phone not in body
        assert all(person.phone[3:-4] not in value for value in shown)
    assert all(re.fullmatch(r"\d{3}\*+\d{4}|\*+", value) for value in shown), shown


def test_a_village_commander_sees_names_and_masked_phones(served: Served) -> None:
    town = served.town
    answers = _answers(_client(served, "commander"), town)
    expected = {
        **{f"grid {code}": leader for code, (_, leader) in town.grids.items()},
        "village": town.secretary,
        "compound": town.yard_head,
        "building": town.building_head,
        "building at": town.building_head,
    }
    for what, person in expected.items():
        answer = answers[what]
        assert answer["status"] == "assigned", what
        assert answer["name"] == person.name, what
        assert answer["phone"] == person.masked, what
        assert re.sub(r"\D", "", answer["phone"]) == person.phone[:3] + person.phone[-4:]
    assert answers["grid " + next(iter(town.grids))]["role"] == "grid_leader"
    assert answers["village"]["role"] == "village_secretary"
    assert answers["compound"]["role"] == "yard_head"
    assert answers["building"]["role"] == "building_head"
    assert_no_phone_beyond_the_mask(orjson.dumps(answers).decode(), town.people)


@pytest.mark.parametrize("role", ["planner", "analyst"])
def test_planners_and_analysts_see_neither_name_nor_phone(served: Served, role: str) -> None:
    town = served.town
    answers = _answers(_client(served, role), town)
    for what, answer in answers.items():
        assert answer["status"] == "assigned", what
        assert not {"name", "phone"} & set(answer), what
    body = orjson.dumps(answers).decode()
    for person in town.people:
        assert person.name not in body
        assert person.phone[-4:] not in body


def test_objects_of_another_village_are_not_shown(served: Served) -> None:
    town = served.town
    client = _client(served, "commander")
    for url in (
        f"/api/layers/grids/{town.other_grid}/responsible",
        f"/api/layers/villages/{town.other_village}/responsible",
        f"/api/layers/compounds/{town.other_compound}/responsible",
        "/api/layers/staff/1/responsible",
        "/api/layers/grids/9223372036854775807/responsible",
    ):
        answer = _get(client, url, 404)
        assert not {"name", "phone", "status"} & set(answer), url
    assert _get(client, _at(town.other_building_point)) == {"building": None}


def test_the_grid_list_names_the_leaders_of_the_scope_only(served: Served) -> None:
    town = served.town
    url = "/api/v1/coverage?level=grid&leaders=1"
    report = _get(_client(served, "commander"), url)
    assert {g["code"] for g in report["grids"]} == set(town.grids)
    for grid in report["grids"]:
        leader = town.grids[grid["code"]][1]
        assert grid["leader"] == {"status": "assigned", "name": leader.name, "phone": leader.masked}
    assert_no_phone_beyond_the_mask(orjson.dumps(report).decode(), town.people)
    planned = _get(_client(served, "planner"), url)
    assert len(planned["grids"]) > len(town.grids)  # the planner's scope is the town
    assert {g["leader"]["status"] for g in planned["grids"]} == {"assigned"}
    assert all(set(g["leader"]) == {"status"} for g in planned["grids"])
    # Without `leaders=1` (the map's choropleth) the report names nobody.
    plain = _get(_client(served, "commander"), "/api/v1/coverage?level=grid")
    assert all("leader" not in g for g in plain["grids"])


def test_names_and_phones_are_never_logged(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    town = served.town
    with caplog.at_level(logging.DEBUG):
        client = _client(served, "commander")
        _answers(client, town)
        _get(client, "/api/v1/coverage?level=grid&leaders=1")
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for person in town.people:
        assert person.name not in logged
        assert person.phone[-4:] not in logged
        assert person.masked not in logged


def test_each_naming_is_audited_without_the_values(
    served: Served, throwaway_sample_db: conftest.TestDatabase
) -> None:
    town = served.town
    client = _client(served, "commander")
    grid_id, leader = next(iter(town.grids.values()))
    with throwaway_sample_db.owner.connect() as conn:
        before = conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_events")).scalar()
    _get(client, f"/api/layers/grids/{grid_id}/responsible")
    _get(_client(served, "planner"), f"/api/layers/grids/{grid_id}/responsible")
    with throwaway_sample_db.owner.connect() as conn:
        events = conn.execute(
            text(
                "SELECT actor, action, object_type, object_ids, detail,"
                " audit_events::text AS whole FROM audit_events"
                " WHERE id > :b AND object_type = 'staff' ORDER BY id"
            ),
            {"b": before},
        ).all()
    assert [(e.actor, e.action, e.object_ids) for e in events] == [
        ("people-commander", "view", [leader.id])
    ]
    assert events[0].detail == {"responsible_for": "grids"}
    assert leader.name not in events[0].whole
    assert leader.phone[-4:] not in events[0].whole


@pytest.mark.parametrize(
    "at", ["", "114.3", "114.3,30.5,1", "x,y", "NaN,30", "inf,30", "200,30", "114,-91", "1e400,0"]
)
def test_a_bad_point_is_refused(served: Served, at: str) -> None:
    response = _client(served, "commander").get(f"/api/layers/buildings/responsible?at={at}")
    assert response.status_code == 400
    assert "at: lon,lat" in response.get_data(as_text=True)


# -- in the browser ----------------------------------------------------------------------


def _household_tooltip(page: Page) -> str:
    """The tooltip of the bubble of unscreened households at the map's centre: a point of a
    vector tile, which Leaflet asked for a position it did not have (a page error before)."""
    box = page.locator(".folium-map").bounding_box()
    assert box is not None
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(centre[0] - 100, centre[1] + 100)
    page.mouse.move(*centre)
    tip = page.locator(".leaflet-tooltip:has(.feature-details)").last
    tip.wait_for(state="visible", timeout=5000)
    return tip.inner_text()


def _switch(page: Page, overlay: str, *, on: bool) -> None:
    box = page.locator(".leaflet-control-layers-overlays label").filter(has_text=overlay)
    box.locator("input").set_checked(on)


def _click_at(page: Page, lon: float, lat: float, zoom: int, pane: str) -> None:
    """Centre the map on the point at `zoom`, wait until a shape of `pane` lies under it (the
    layer reloaded for the view), click it."""
    name = page.evaluate("Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))")
    # `void`: setView returns the map, which Playwright would serialise (seconds).
    page.evaluate(f"void window.{name}.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    box = page.locator(".folium-map").bounding_box()
    assert box is not None
    x, y = page.evaluate(f"(p => [p.x, p.y])(window.{name}.latLngToContainerPoint([{lat}, {lon}]))")
    x, y = box["x"] + x, box["y"] + y
    until(page, f"Boolean(document.elementFromPoint({x}, {y}).closest('.leaflet-{pane}-pane'))")
    page.mouse.click(x, y)


def _popup_text(page: Page, *, building: bool = False) -> str:
    """The popup's text once its person (and, with `building`, the building's) is in."""
    popup = page.locator(".people-popup").last  # the one before may still be fading out
    popup.wait_for(state="visible", timeout=5000)
    until(
        page,
        "!Array.from(document.querySelectorAll('.people-popup')).pop()"
        ".textContent.includes('loading')",
    )
    if building:
        page.locator(".people-popup .building-details").last.wait_for(timeout=5000)
    return popup.inner_text()


MARKUP_NAME = "<img src=x onerror=alert(3)>"


def test_popups_name_the_people_for_the_commander_only(
    own_sample_db: conftest.TestDatabase,
) -> None:
    """In a database of its own: the yard head is renamed to markup, which stays text."""
    with own_sample_db.owner.begin() as conn:
        town = read_town(conn)
        conn.execute(
            text("UPDATE staff SET name = :n WHERE id = :id"),
            {"n": MARKUP_NAME, "id": town.yard_head.id},
        )
    yard_head = Person(town.yard_head.id, MARKUP_NAME, town.yard_head.phone)
    served = Served(
        create_app(
            own_sample_db.settings, engine=own_sample_db.app, admin_engine=own_sample_db.owner
        ),
        town,
        {
            "commander": conftest.make_account(
                own_sample_db, "popup-commander", "commander", village_codes=(town.village_code,)
            ),
            "planner": conftest.make_account(own_sample_db, "popup-planner", "planner"),
        },
    )
    with serving(served.app) as base:
        with visit(base, served.accounts["commander"]) as (page, record):
            _click_at(page, *town.building_point, zoom=18, pane="town-households-tiles")
            assert "Not screened in the screening window" in _household_tooltip(page)
            # The bubbles stand on the buildings' points: out of the way of the click.
            _switch(page, "Unscreened households", on=False)
            _click_at(page, *town.building_point, zoom=18, pane="town-compounds")
            shown = _popup_text(page, building=True)
            assert town.compound_name in shown
            assert f"Yard head\t{yard_head.name} · {yard_head.masked}" in shown
            assert page.locator(".leaflet-popup-pane img").count() == 0
            assert f"Building head\t{town.building_head.name} · {town.building_head.masked}" in (
                shown
            )
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "commander-responsible.png"))
            _click_at(page, *town.grid_point, zoom=17, pane="town-grids")
            code, (_, leader) = next(iter(town.grids.items()))
            shown = _popup_text(page)
            assert code in shown
            assert f"Grid leader\t{leader.name} · {leader.masked}" in shown
            assert_no_phone_beyond_the_mask(
                page.locator(".leaflet-popup-pane").inner_text(), town.people
            )
            for person in town.people:
                assert person.phone not in page.content()
            page.wait_for_load_state("networkidle")
            assert page.locator("img[src='x']").count() == 0
            record.assert_clean()  # no dialog, no page error
        with visit(base, served.accounts["planner"]) as (page, record):
            _switch(page, "Unscreened households", on=False)
            _click_at(page, *town.building_point, zoom=18, pane="town-compounds")
            shown = _popup_text(page, building=True)
            assert "Yard head\tassigned" in shown
            assert "Building head\tassigned" in shown
            content, popup = page.content(), page.locator(".leaflet-popup-pane").inner_text()
            for person in (*town.people, yard_head):
                assert person.name not in content
                assert person.phone not in content
                assert person.phone[-4:] not in popup
            page.wait_for_load_state("networkidle")
            record.assert_clean()
