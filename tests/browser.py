"""Headless Chromium (Debian's) driven by Playwright: what a page requested, logged and drew."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import ConsoleMessage, Page, Request, Response, Route, sync_playwright

from tests import conftest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class PageVisit:
    """Everything the page did while it loaded."""

    base: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        """Let requests to the app through; refuse (and remember) any other."""
        url = route.request.url
        if url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def on_request_failed(self, request: Request) -> None:
        self.failed.append(f"{request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.bad_responses.append(f"{response.status} {response.url}")

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def assert_clean(self) -> None:
        """Nothing left the machine, failed, errored or popped up."""
        assert self.requests, "the page made requests"
        off_machine = [url for url in self.requests if not url.startswith(self.base + "/")]
        assert off_machine == []
        assert self.blocked == []
        assert self.failed == []
        assert self.bad_responses == []
        assert self.console == []
        assert self.page_errors == []
        assert self.dialogs == []


@contextmanager
def recorded_page(base: str) -> Iterator[tuple[Page, PageVisit]]:
    """A fresh browser page whose every request, response, message and dialog is recorded;
    requests off the app are refused."""
    record = PageVisit(base=base)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            context.route("**/*", record.route)
            page = context.new_page()
            page.on("request", record.on_request)
            page.on("requestfailed", record.on_request_failed)
            page.on("response", record.on_response)
            page.on("console", record.on_console)
            page.on("pageerror", lambda error: record.page_errors.append(str(error)))

            def on_dialog(dialog: Any) -> None:
                record.dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            yield page, record
        finally:
            browser.close()


def sign_in(page: Page, url: str, account: conftest.Account) -> None:
    """Open `url`, which sends a visitor to the login form, and sign in as a person does."""
    page.goto(url, wait_until="load")
    assert "/login" in page.url
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
