"""The field app in headless Chromium on a phone (390×844), served by waitress: five visits
recorded offline stay pending across a reload and reach the server once each when the
network returns; a page closed mid-sync makes no duplicate; a second user of the same browser
sees nothing of the first's, whose unsent record waits for them.

Playwright drives the system browser (/usr/bin/chromium); it never downloads one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import (
    BrowserContext,
    Dialog,
    Page,
    Route,
    ViewportSize,
    sync_playwright,
)
from sqlalchemy import text

from geodata.records.town_settings import set_setting
from tests import conftest
from tests.browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from tests.live_server import serving
from tests.paths import SCREENSHOTS
from webapp import create_app

PHONE: ViewportSize = {"width": 390, "height": 844}
WAIT_MS = 20000


@pytest.fixture(scope="module")
def town(
    throwaway_sample_db: conftest.TestDatabase,
) -> tuple[Flask, conftest.TestDatabase, dict[str, conftest.Account]]:
    database = throwaway_sample_db
    first, second = conftest.two_settled_grids(database)
    accounts = {
        "a": conftest.make_account(database, "phone-a", "grid_worker", grid_codes=(first,)),
        "b": conftest.make_account(database, "phone-b", "grid_worker", grid_codes=(second,)),
        # more workers of the first grid: logins are limited to 5 a minute per account
        "c": conftest.make_account(database, "phone-c", "grid_worker", grid_codes=(first,)),
        "d": conftest.make_account(database, "phone-d", "grid_worker", grid_codes=(first,)),
    }
    app = create_app(database.settings, engine=database.app, admin_engine=database.owner)
    return app, database, accounts


@pytest.fixture
def phone(
    town: tuple[Flask, conftest.TestDatabase, dict[str, conftest.Account]],
) -> Iterator[tuple[str, BrowserContext, list[str]]]:
    """The live app and a phone-sized browser context; yields (base URL, context, problems:
    page errors, console errors and requests that left the app)."""
    app = town[0]
    problems: list[str] = []
    with serving(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(
                viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN",
                device_scale_factor=2,
            )  # fmt: skip

            def watch(page: Page) -> None:
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on(
                    "request",
                    lambda r: None if r.url.startswith(base) else problems.append(r.url),
                )
                page.on("dialog", lambda d: _accept(d, problems))

            context.on("page", watch)
            yield base, context, problems
        finally:
            browser.close()


def _accept(dialog: Dialog, problems: list[str]) -> None:
    problems.append(f"dialog: {dialog.message}")
    dialog.accept()


def _open(context: BrowserContext, base: str, account: conftest.Account | None) -> Page:
    page = context.new_page()
    if account is None:
        page.goto(base + "/field/")
    else:
        sign_in(page, base + "/field/", account)
    page.wait_for_selector("[data-household]", timeout=WAIT_MS)
    return page


def _wait_for_worker(page: Page) -> None:
    page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
        timeout=WAIT_MS,
    )
    page.evaluate("caches.open('wangge-field-shell-v2').then(c => c.match('/field/'))")
    page.wait_for_function(
        "() => caches.open('wangge-field-shell-v2').then(c => c.match('/field/')).then(Boolean)",
        timeout=WAIT_MS,
    )


def _pending(page: Page, n: int) -> None:
    page.wait_for_function(
        f"() => document.getElementById('pending-count').textContent === '{n}'",
        timeout=WAIT_MS,
    )


def _record(page: Page, household: str, result: str = "seen_all", people: int = 2) -> None:
    card = page.locator(f'[data-household="{household}"]')
    card.locator("input[name=people_seen]").fill(str(people))
    card.locator(f'button[data-result="{result}"]').tap()
    page.wait_for_selector(f'[data-household="{household}"] [data-state]', timeout=WAIT_MS)


def _visits(database: conftest.TestDatabase, user: str) -> list[tuple[int, int]]:
    """(household, visits) for every household this user's keys wrote visits for."""
    with database.owner.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT household_id, count(*) FROM visits WHERE source_id LIKE :p"
                " GROUP BY household_id ORDER BY household_id"
            ),
            {"p": f"visit:{user}:%"},
        ).all()
    return [(int(h), int(n)) for h, n in rows]


def _states(page: Page) -> list[str]:
    found = page.eval_on_selector_all(
        "#records [data-state]", "els => els.map(e => e.dataset.state)"
    )
    return [str(s) for s in found]


def test_offline_visits_reach_the_server_once(
    town: tuple[Flask, conftest.TestDatabase, dict[str, conftest.Account]],
    phone: tuple[str, BrowserContext, list[str]],
) -> None:
    _, database, accounts = town
    base, context, problems = phone
    page = _open(context, base, accounts["a"])
    _wait_for_worker(page)
    households = page.eval_on_selector_all(
        "[data-household]", "els => els.map(e => e.dataset.household)"
    )
    assert len(households) >= 8
    for narrow in (360, 414, PHONE["width"]):  # no sideways scrolling on phones
        page.set_viewport_size({"width": narrow, "height": PHONE["height"]})
        assert page.evaluate("document.documentElement.scrollWidth") <= narrow
    tap = page.locator('[data-result="seen_all"]').first.bounding_box()
    assert tap is not None
    assert tap["height"] >= 48
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "field.png"))

    # Offline: five visits, kept through a reload.
    context.set_offline(True)
    for household in households[:5]:
        _record(page, household)
    _pending(page, 5)
    page.reload()
    page.wait_for_selector("[data-household]", timeout=WAIT_MS)
    _pending(page, 5)
    assert _states(page) == ["waiting"] * 5
    page.screenshot(path=str(SCREENSHOTS / "field-offline.png"), full_page=True)
    assert _visits(database, "phone-a") == []

    # Online: each reaches the server once.
    context.set_offline(False)
    _pending(page, 0)
    page.wait_for_function(
        "() => document.querySelectorAll('#records [data-state=sent]').length === 5",
        timeout=WAIT_MS,
    )
    assert _visits(database, "phone-a") == sorted((int(h), 1) for h in households[:5])

    # The page closed while its sync is on the wire: the server wrote the visit, the phone
    # never heard; reopened, it sends again under the same key and nothing doubles.
    answered: list[Any] = []

    def swallow(route: Route) -> None:
        answered.append(route.fetch().status)  # reaches the server; the page never hears

    context.set_offline(True)
    _record(page, households[5])
    page.route("**/api/v1/households/*/visits", swallow)
    context.set_offline(False)
    page.wait_for_function("() => document.querySelector('[data-state=sending]') !== null",
                           timeout=WAIT_MS)  # fmt: skip
    for _ in range(100):
        if answered:
            break
        page.wait_for_timeout(100)
    assert answered == [201]
    page.close()
    again = _open(context, base, None)
    _pending(again, 0)
    again.wait_for_function(
        "() => document.querySelectorAll('#records [data-state=sent]').length === 6",
        timeout=WAIT_MS,
    )
    assert dict(_visits(database, "phone-a"))[int(households[5])] == 1
    assert len(_visits(database, "phone-a")) == 6

    # Signing out with a record unsent warns first; the record stays for its owner.
    context.set_offline(True)
    _record(again, households[6])
    _pending(again, 1)
    context.set_offline(False)
    again.route("**/api/v1/households/*/visits", lambda route: route.abort())
    again.locator("#logout button").click()
    again.wait_for_url("**/login**", timeout=WAIT_MS)
    assert [p for p in problems if p.startswith("dialog:")] != []
    problems[:] = [p for p in problems if not p.startswith("dialog:")]
    again.unroute("**/api/v1/households/*/visits")

    # A second user of the same browser sees nothing of the first's.
    sign_in(again, base + "/field/", accounts["b"])
    again.wait_for_selector("[data-household]", timeout=WAIT_MS)
    theirs = again.eval_on_selector_all(
        "[data-household]", "els => els.map(e => e.dataset.household)"
    )
    assert set(theirs).isdisjoint(households)
    assert again.inner_text("#pending-count") == "0"
    assert _states(again) == []
    kept = again.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open('wangge-field');
            open.onsuccess = () => {
              const tx = open.result.transaction(['lists'], 'readonly');
              const keys = tx.objectStore('lists').getAllKeys();
              keys.onsuccess = () => resolve(keys.result);
            };
        })"""
    )
    assert kept == ["phone-b"]
    again.wait_for_timeout(1000)
    assert int(households[6]) not in dict(_visits(database, "phone-a"))
    assert _visits(database, "phone-b") == []
    again.screenshot(path=str(SCREENSHOTS / "field-second-user.png"))

    # The first user back: their record resumes and is sent once.
    again.locator("#logout button").click()
    again.wait_for_url("**/login**", timeout=WAIT_MS)
    sign_in(again, base + "/field/", accounts["a"])
    again.wait_for_selector("[data-household]", timeout=WAIT_MS)
    _pending(again, 0)
    assert dict(_visits(database, "phone-a"))[int(households[6])] == 1
    assert problems == []


def _drafts(page: Page, household: str) -> list[str]:
    found = page.evaluate(
        """(household) => new Promise((resolve) => {
            const open = indexedDB.open('wangge-field');
            open.onsuccess = () => {
              const all = open.result.transaction(['records'], 'readonly')
                .objectStore('records').getAll();
              all.onsuccess = () => resolve(all.result
                .filter((r) => r.household === Number(household)).map((r) => r.id));
            };
        })""",
        household,
    )
    return [str(f) for f in found]


def test_one_draft_in_two_tabs_makes_one_visit(
    town: tuple[Flask, conftest.TestDatabase, dict[str, conftest.Account]],
    phone: tuple[str, BrowserContext, list[str]],
) -> None:
    _, database, accounts = town
    base, context, problems = phone
    first = _open(context, base, accounts["a"])
    second = _open(context, base, None)
    household = first.eval_on_selector_all(
        "[data-household]", "els => els.map(e => e.dataset.household)"
    )[-1]
    before = dict(_visits(database, "phone-a")).get(int(household), 0)
    context.set_offline(True)
    for page in (first, second):  # the draft is made once, in IndexedDB, for both tabs
        page.locator(f'[data-household="{household}"] input[name=people_seen]').focus()
    first.wait_for_timeout(300)
    [draft] = _drafts(first, household)
    _record(first, household, "seen_all", 3)
    # The second tab still holds the same draft: its tap finds it recorded already.
    second.evaluate(
        "(h) => document.querySelectorAll(`[data-household='${h}'] button`)"
        ".forEach((b) => { b.disabled = false; })",
        household,
    )
    second.locator(f'[data-household="{household}"] button[data-result="partial"]').tap()
    second.wait_for_selector("#note:not([hidden])", timeout=WAIT_MS)
    _pending(second, 1)
    assert _drafts(second, household) == [draft]
    context.set_offline(False)
    _pending(first, 0)
    _pending(second, 0)
    assert dict(_visits(database, "phone-a"))[int(household)] == before + 1
    with database.owner.connect() as conn:
        result = conn.execute(
            text("SELECT result FROM visits WHERE source_id = :s"), {"s": f"visit:phone-a:{draft}"}
        ).scalar_one()
    assert str(result) in ("seen_all", "VisitResult.SEEN_ALL")
    assert problems == []


def test_a_fever_case_is_registered_from_a_card(
    town: tuple[Flask, conftest.TestDatabase, dict[str, conftest.Account]],
    phone: tuple[str, BrowserContext, list[str]],
) -> None:
    _, database, accounts = town
    base, context, problems = phone
    page = _open(context, base, accounts["a"])
    card = page.locator("[data-household]:has(details.register)").first
    card.locator("summary").tap()
    resident = card.locator("select[name=resident]").input_value()
    card.locator("select[name=reason]").select_option("returnee")
    card.locator("button[data-register]").tap()
    assert page.locator("#note").inner_text()  # a returnee needs where they came from
    card.locator("select[name=reason]").select_option("fever")
    context.set_offline(True)
    card.locator("button[data-register]").tap()
    _pending(page, 1)
    # Its answer lost on the way (the page closed): sent again, it finds what it made.
    answered: list[int] = []
    page.route("**/api/v1/quarantines", lambda route: answered.append(route.fetch().status))
    context.set_offline(False)
    for _ in range(100):
        if answered:
            break
        page.wait_for_timeout(100)
    assert answered == [201]
    page.close()
    again = _open(context, base, None)
    _pending(again, 0)
    assert again.eval_on_selector_all("#records [data-state]", "els => els[0].dataset.state") == (
        "sent"
    )
    with database.owner.connect() as conn:
        made = conn.execute(
            text(
                "SELECT q.type, q.reason, q.created_by FROM quarantines q JOIN residents r"
                " ON r.id = q.resident_id WHERE r.source_id = :r AND q.status = 'active'"
            ),
            {"r": resident},
        ).all()
    assert [tuple(m) for m in made] == [("home", "fever", "phone-a")]
    assert problems == []


def test_a_temperature_taken_at_the_visit_is_a_quarantine_check(
    town: tuple[Flask, conftest.TestDatabase, dict[str, conftest.Account]],
    phone: tuple[str, BrowserContext, list[str]],
) -> None:
    _, database, accounts = town
    base, context, problems = phone
    with database.owner.begin() as conn:  # a window open all day, whatever the hour of the run
        set_setting(conn, "check_windows", "00:00-24:00", actor="test")
        resident, household = conn.execute(
            text(
                "SELECT r.source_id, r.household_id FROM residents r JOIN households h"
                " ON h.id = r.household_id JOIN user_grids ug ON ug.grid_id = h.grid_id"
                " JOIN users u ON u.id = ug.user_id WHERE u.username = 'phone-d'"
                " AND NOT EXISTS (SELECT 1 FROM quarantines q WHERE q.resident_id = r.id)"
                " AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id"
                " AND v.visited_at > now() - interval '1 day') ORDER BY r.id LIMIT 1"
            )
        ).one()
        conn.execute(
            text(
                "INSERT INTO quarantines (resident_id, grid_id, type, reason, starts_at, ends_at)"
                " SELECT r.id, h.grid_id, 'home', 'close_contact', now() - interval '1 day',"
                " now() + interval '13 days' FROM residents r JOIN households h"
                " ON h.id = r.household_id WHERE r.source_id = :r"
            ),
            {"r": resident},
        )
    page = _open(context, base, accounts["d"])
    field = page.locator(f'[data-household="{household}"] input[data-resident="{resident}"]')
    field.fill("37.8")
    context.set_offline(True)
    _record(page, str(household), "partial", 1)
    _pending(page, 1)
    context.set_offline(False)
    _pending(page, 0)
    with database.owner.connect() as conn:
        checks = conn.execute(
            text(
                "SELECT c.temperature_c, a.id IS NOT NULL FROM quarantine_checks c"
                " JOIN quarantines q ON q.id = c.quarantine_id JOIN residents r"
                " ON r.id = q.resident_id LEFT JOIN fever_alerts a ON a.check_id = c.id"
                " WHERE r.source_id = :r"
            ),
            {"r": resident},
        ).all()
    assert [(float(t), alert) for t, alert in checks] == [(37.8, True)]
    assert problems == []


def test_records_wait_through_a_session_that_expired_offline(
    town: tuple[Flask, conftest.TestDatabase, dict[str, conftest.Account]],
    phone: tuple[str, BrowserContext, list[str]],
) -> None:
    _, database, accounts = town
    base, context, problems = phone
    page = _open(context, base, accounts["c"])
    household = page.eval_on_selector_all(
        "[data-household] button[data-result]:not([disabled])",
        "els => els.map(e => e.closest('[data-household]').dataset.household)",
    )[0]
    before = dict(_visits(database, "phone-c")).get(int(household), 0)
    context.set_offline(True)
    _record(page, household, "nobody_home", 0)
    _pending(page, 1)
    with database.owner.begin() as conn:  # idle past the timeout while the phone was offline
        conn.execute(
            text(
                "UPDATE web_sessions SET last_seen_at = now() - interval '1 day' WHERE user_id ="
                " (SELECT id FROM users WHERE username = 'phone-c')"
            )
        )
    context.set_offline(False)
    page.wait_for_selector("#note:not([hidden])", timeout=WAIT_MS)
    page.wait_for_timeout(500)
    _pending(page, 1)
    assert dict(_visits(database, "phone-c")).get(int(household), 0) == before
    sign_in(page, base + "/field/", accounts["c"])
    page.wait_for_selector("[data-household]", timeout=WAIT_MS)
    _pending(page, 0)
    assert dict(_visits(database, "phone-c"))[int(household)] == before + 1
    assert problems == []
