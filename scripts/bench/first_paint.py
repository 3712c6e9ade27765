"""Time the first paint of the map page in headless Chromium on a synthetic town.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/first_paint.py \
        --households 1000000 --runs 3

Serves the app with waitress (8 threads, as `wangge serve`) against the synthetic town's
scratch database (the one scripts/bench/tiles.py loads; loaded here too if missing), signs
a commander made by geodata.auth.accounts in through the login form, then per run opens `/` in
a fresh browser context (empty HTTP cache, the session's cookie only) with the server's tile
cache emptied, and measures from navigation start (`performance.timeOrigin`) to the first
animation frame in which a vector is drawn: an SVG path with a shape (a road, village or grid
outline, a household hexagon) or a vector-tile canvas with a painted pixel; the first of
each kind is reported too. Between runs the page is left to
finish its requests (the coverage report among them), so each run starts on an idle
server. Chromium is the system's (/usr/bin/chromium). Prints each run and the median.

The households tiles' hexagons and the coverage report's figures per grid come from caches
that the app keeps (geodata.maps.hexagon_cache, geodata.records.coverage_cache) and brings up
to date before answering; after a bulk import the first view builds them. `--warm-up N`
(default 1) loads the page N times first, reported apart as the view that builds them.

`--workers N` (N > 1) serves with `wangge serve --workers N` (gunicorn, N processes of 8
threads) instead, a new server for each load, so that each starts with no tile in memory.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from measure import map_town
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import text
from sqlalchemy.orm import Session
from waitress.server import create_server

from geodata.auth import accounts
from geodata.db.cluster import APP_ROLE
from geodata.settings import Settings
from geodata.vocab import Role
from webapp import create_app
from webapp.tiles import views as tiles

BENCH_USER = "bench-paint-commander"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WATCH = """
(() => {
  const paint = (window.__paint = {});
  let lastCanvasCheck = 0;
  function drawnPath(scope) {
    for (const p of document.querySelectorAll(scope)) {
      const d = p.getAttribute("d");
      if (d && d !== "M0 0") return true;
    }
    return false;
  }
  function drawnCanvas() {
    for (const c of document.querySelectorAll("canvas.leaflet-tile")) {
      if (!c.width || !c.height) continue;
      const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < data.length; i += 64) if (data[i]) return true;
    }
    return false;
  }
  function frame() {
    // The callback's own timestamp is when its frame began, which may be before a long
    // task (a large GeoJSON parsed and drawn) that made the frame late: read the clock.
    const now = performance.now();
    if (paint.geojson === undefined && drawnPath(".leaflet-map-pane svg:not(.leaflet-tile) path")) {
      paint.geojson = now;
    }
    if (paint.tile === undefined && drawnPath(".leaflet-tile path")) paint.tile = now;
    if (paint.tile === undefined && now - lastCanvasCheck > 50) {
      lastCanvasCheck = now;
      if (drawnCanvas()) paint.tile = now;
    }
    const first = [paint.geojson, paint.tile].filter((t) => t !== undefined);
    if (first.length && paint.vector === undefined) paint.vector = Math.min(...first);
    if (paint.geojson === undefined || paint.tile === undefined) requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
})();
"""
"""Runs in the page before its own scripts (injected by the browser, not subject to CSP)."""


def sign_in(browser: Browser, base: str, password: str) -> Any:
    """The signed-in session's storage state, got through the login form."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(base + "/login?next=/healthz", wait_until="load")
        page.fill("input[name=username]", BENCH_USER)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert "/healthz" in page.url, page.url
        return context.storage_state()
    finally:
        context.close()


KINDS = {
    "buildings tiles": "/tiles/buildings/",
    "households tiles": "/tiles/households/",
    "coverage": "/api/v1/coverage",
    "campaigns": "/api/v1/campaigns",
    "GeoJSON layers": "/api/layers/",
}
"""Requests whose last answer is reported, by a part of their URL."""


def first_paint(
    browser: Browser, base: str, state: Any, timeout_s: float, settle_s: float
) -> dict[str, float]:
    """One cold load of the map page: milliseconds from navigation start to each mark, and
    to the last answer of each kind of request (see KINDS) that came within `settle_s`."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, storage_state=state)
    try:
        context.add_init_script(WATCH)
        page = context.new_page()
        responses: list[str] = []
        finished: dict[str, float] = {}
        pending: set[str] = set()

        def on_finished(request: Any) -> None:
            pending.discard(request.url)
            timing = request.timing  # epoch ms at its start, then ms after that
            at = timing["startTime"] + timing["responseEnd"]  # epoch ms; origin taken off below
            for kind, part in KINDS.items():
                if part in request.url:
                    finished[kind] = max(finished.get(kind, 0.0), float(at))

        page.on("response", lambda r: responses.append(f"{r.status} {r.url}"))
        page.on("request", lambda r: pending.add(r.url))
        page.on("requestfinished", on_finished)
        page.on("requestfailed", lambda r: pending.discard(r.url))
        origin = [0.0]
        page.goto(base + "/", wait_until="commit")
        origin[0] = float(page.evaluate("performance.timeOrigin"))
        page.wait_for_function(
            "() => Boolean(window.__paint) && typeof window.__paint.vector === 'number'",
            timeout=timeout_s * 1000,
            polling=100,
        )
        marks: dict[str, float] = dict(page.evaluate("window.__paint"))
        timing = page.evaluate(
            "(() => { const n = performance.getEntriesByType('navigation')[0];"
            " return {html: n.responseEnd, dom: n.domContentLoadedEventEnd}; })()"
        )
        marks.update({k: float(v) for k, v in timing.items() if v})
        assert "/login" not in page.url, "not signed in"
        # Let the page finish (the coverage report among its requests) before the next run.
        deadline = time.monotonic() + settle_s
        while pending and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        bad = [r for r in responses if not r.startswith(("200", "304"))]
        assert not bad, bad
        later: dict[str, Any] = dict(page.evaluate("window.__paint"))
        marks.update({k: v for k, v in later.items() if k not in marks})
        out = {k: float(v) for k, v in marks.items() if isinstance(v, (int, float))}
        # Counted from navigation start only now: a request answered while timeOrigin was
        # being read would have been counted from 0, the epoch.
        out.update({f"last {k}": v - origin[0] for k, v in finished.items()})
        # Complete: every layer and the summary answered (the last of them all).
        out["complete"] = max([out["vector"], *(out[f"last {k}"] for k in finished)])
        out["unfinished requests"] = float(len(pending))
        return out
    finally:
        context.close()


def _runs_in_process(
    args: argparse.Namespace, settings: Settings, app_engine: Any, password: str
) -> list[dict[str, float]]:
    """The loads against waitress (8 threads) in this process."""
    runs: list[dict[str, float]] = []
    app = create_app(settings, engine=app_engine)
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    base = f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                state = sign_in(browser, base, password)
                for run in range(-args.warm_up, args.runs):
                    tiles.cache.clear()
                    marks = first_paint(
                        browser,
                        base,
                        state,
                        600.0 if run < 0 else args.timeout_s,
                        args.settle_s,
                    )
                    if run >= 0:
                        runs.append(marks)
                    print(
                        ("warm-up: " if run < 0 else f"run {run + 1}: ")
                        + ", ".join(f"{k} {v:.0f} ms" for k, v in sorted(marks.items())),
                        file=sys.stderr,
                    )
                    time.sleep(1.0)
            finally:
                browser.close()
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=10)
    return runs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _runs_on_gunicorn(
    args: argparse.Namespace, settings: Settings, password: str
) -> list[dict[str, float]]:
    """The loads against `wangge serve --workers N`, a new server for each load."""
    runs: list[dict[str, float]] = []
    env = {
        **os.environ,
        "WANGGE_DATABASE_URL": str(settings.database_url),
        "WANGGE_HOME": str(settings.home),
        "WANGGE_ENV": "testing",
    }
    wangge = str(Path(sys.executable).parent / "wangge")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            for run in range(-args.warm_up, args.runs):
                port = _free_port()
                server = subprocess.Popen(
                    [wangge, "serve", "--workers", str(args.workers), "--port", str(port),
                     "--clock-every", "0"],
                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                base = f"http://127.0.0.1:{port}"
                try:
                    deadline = time.monotonic() + 60
                    while True:
                        try:
                            with urllib.request.urlopen(base + "/healthz", timeout=2):  # noqa: S310 (http on 127.0.0.1)
                                break
                        except OSError:
                            if time.monotonic() > deadline:
                                raise
                            time.sleep(0.3)
                    state = sign_in(browser, base, password)
                    marks = first_paint(
                        browser, base, state, 600.0 if run < 0 else args.timeout_s, args.settle_s
                    )
                finally:
                    server.terminate()
                    server.wait(timeout=30)
                if run >= 0:
                    runs.append(marks)
                print(
                    ("warm-up: " if run < 0 else f"run {run + 1}: ")
                    + ", ".join(f"{k} {v:.0f} ms" for k, v in sorted(marks.items())),
                    file=sys.stderr,
                )
        finally:
            browser.close()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--warm-up", type=int, default=1, help="loads before the runs, reported apart"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="more than 1: wangge serve --workers N"
    )
    parser.add_argument("--timeout-s", type=float, default=60.0)
    parser.add_argument(
        "--settle-s",
        type=float,
        default=300.0,
        help="how long a run's remaining requests may take before the next run",
    )
    args = parser.parse_args()

    cluster, name, owner, app_engine = map_town(args.households, args.seed)
    password = secrets.token_urlsafe(24)
    runs: list[dict[str, float]] = []
    try:
        with owner.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": BENCH_USER})
        with Session(owner) as s, s.begin():
            accounts.add_user(s, BENCH_USER, Role.COMMANDER, password=password)
        settings = Settings(
            database_url=cluster.url(role=APP_ROLE, database=name).render_as_string(
                hide_password=False
            ),
            home=cluster.home,
            env="testing",
        )
        if args.workers > 1:
            runs = _runs_on_gunicorn(args, settings, password)
        else:
            runs = _runs_in_process(args, settings, app_engine, password)
    finally:
        with owner.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": BENCH_USER})
        owner.dispose()
        app_engine.dispose()

    def median(key: str) -> str:
        found = [r[key] for r in runs if key in r]
        return f"{statistics.median(found):.0f} ms" if found else "none"

    print(
        f"map page on {args.households} households, headless Chromium, median of {len(runs)} "
        f"cold loads: first vector drawn {median('vector')} (per run: "
        + ", ".join(f"{r['vector']:.0f}" for r in runs)
        + f"); first GeoJSON outline {median('geojson')}; first vector-tile feature "
        f"{median('tile')}; HTML received {median('html')}; DOMContentLoaded {median('dom')}"
    )
    print(f"first view complete (every layer and the summary answered): {median('complete')}")
    print(
        "last answer of the first view's requests (median): "
        + "; ".join(f"{k} {median('last ' + k)}" for k in KINDS)
        + "; requests still open at the end of a run (max): "
        + str(int(max(r["unfinished requests"] for r in runs)))
    )


if __name__ == "__main__":
    main()
