"""`wangge serve` run for real in processes of its own, and a small cookie-keeping HTTP client
(for tests that need several processes: the limiter, metrics, logs, faults)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.conftest import TestDatabase

WANGGE = Path(sys.executable).parent / "wangge"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(database: TestDatabase, **extra: str) -> dict[str, str]:
    settings = database.settings
    assert settings.database_url
    assert settings.admin_database_url
    return {
        **os.environ,
        "WANGGE_DATABASE_URL": settings.database_url,
        "WANGGE_ADMIN_DATABASE_URL": settings.admin_database_url,
        "WANGGE_HOME": str(settings.home),
        "WANGGE_ENV": "testing",
        **extra,
    }


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


@dataclass
class Client:
    """Cookies shared by every server of the host (cookies ignore ports), no redirects followed."""

    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def request(
        self,
        url: str,
        *,
        form: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        timeout_s: float = 30,
    ) -> Answer:
        data = urllib.parse.urlencode(form).encode() if form is not None else body
        req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)  # noqa: S310 (http URLs of our own server)
        if form is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects()
        )
        try:
            with opener.open(req, timeout=timeout_s) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, dict(exc.headers), exc.read())

    def csrf_token(self, base_url: str) -> str:
        page = self.request(f"{base_url}/login").body.decode()
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found
        return found.group(1)


def wait_until_up(
    base_url: str, process: subprocess.Popen[bytes], *, timeout_s: float = 90
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"wangge serve ended with {process.returncode}"
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"wangge serve did not answer at {base_url} within {timeout_s} s")


@contextmanager
def serving(
    database: TestDatabase,
    *args: str,
    stderr: IO[bytes] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`wangge serve --port FREE --clock-every 0 ARGS` against `database`; yields its URL."""
    port = free_port()
    command = [str(WANGGE), "serve", "--port", str(port), "--clock-every", "0", *args]
    process = subprocess.Popen(
        command,
        env=env if env is not None else serve_env(database),
        stdout=subprocess.DEVNULL,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
