"""Serving the app: one waitress process, or gunicorn's arbiter with several worker processes.

Several processes share everything through PostgreSQL (sessions, the login limiter's counts,
the daily clock's advisory lock) and aggregate their metrics in prometheus_client's
multiprocess directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
from gunicorn.glogging import Logger as GunicornLogger  # type: ignore[import-untyped]

from geodata import db
from geodata.settings import Settings
from webapp.infra import metrics, request_log

BODY_OVERHEAD_BYTES = 64 * 1024
"""Room for a multipart upload's headers and form fields beside the file itself."""


def start_clock(settings: Settings, every_s: float) -> None:
    """The daily clock on a daemon thread of this process (its advisory lock keeps each step
    to one process of several)."""
    if every_s <= 0:
        return
    from geodata.services.daily_clock import keep_time

    engine = db.make_engine(db.database_url(settings, admin=True), pool_size=1)
    stop = threading.Event()
    threading.Thread(
        target=keep_time, args=(engine, every_s, stop), daemon=True, name="daily-clock"
    ).start()


def build_app(settings: Settings, *, threads: int) -> Flask:
    """The app with engines whose pools keep a connection for each thread: with fewer, every
    busy moment opens and closes overflow connections (a backend started and authenticated
    each time)."""
    from webapp.factory import create_app

    engine = db.make_engine(db.database_url(settings), pool_size=threads, max_overflow=threads)
    admin_engine = db.make_engine(db.database_url(settings, admin=True), pool_size=2)
    return create_app(settings, engine=engine, admin_engine=admin_engine)


def serve_waitress(app: Flask, *, host: str, port: int, threads: int) -> None:
    """One process, `threads` threads: waitress takes in a whole body before the app sees the
    request, so no body larger than the largest accepted upload is taken in at all."""
    import waitress

    body_limit = int(app.config["WANGGE_IMPORT_MAX_BYTES"]) + BODY_OVERHEAD_BYTES
    waitress.serve(app, host=host, port=port, threads=threads, max_request_body_size=body_limit)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn's arbiter in this process; each worker builds its own app and engines after
    the fork (a pooled connection must never be shared by two processes)."""

    def __init__(
        self, settings: Settings, options: dict[str, Any], clock_every_s: float, threads: int
    ):
        self._settings = settings
        self._options = options
        self._clock_every_s = clock_every_s
        self._threads = threads
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        app = build_app(self._settings, threads=self._threads)
        start_clock(self._settings, self._clock_every_s)
        return app


class _JsonLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's own messages (workers booted, exited) as JSON lines like the app's."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(request_log.JsonLines())


def _worker_exit(_server: object, worker: Any) -> None:
    metrics.process_exited(int(worker.pid))


def serve_gunicorn(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    clock_every_s: float,
    timeout_s: int = 120,
) -> None:
    """`workers` processes of `threads` threads each (gunicorn's gthread worker), metrics
    gathered in a multiprocess directory made for this server and removed after it."""
    metrics_dir = Path(tempfile.mkdtemp(prefix="wangge-metrics-"))
    os.environ[metrics.MULTIPROCESS_ENV] = str(metrics_dir)
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": timeout_s,
        "graceful_timeout": 10,
        "accesslog": None,
        "logger_class": _JsonLogger,
        "worker_exit": _worker_exit,
        "proc_name": "wangge",
    }
    try:
        _Gunicorn(settings, options, clock_every_s, threads).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
