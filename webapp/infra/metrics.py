"""Prometheus metrics: requests and latencies per endpoint (its URL rule, never the raw path),
the pools' use, imports and exports. With several worker processes the values are kept in
prometheus_client's multiprocess directory (PROMETHEUS_MULTIPROC_DIR) and summed at scrape time.

prometheus_client chooses between one process and several when it is first imported, so it is
imported here only when the first app is built, after `wangge serve` has set the directory.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, Response, g, request
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.3, 0.5, 0.8, 1, 2, 5, 10, 30)
_COUNTED_BLUEPRINTS = {"imports": "wangge_imports_total", "exports": "wangge_exports_total"}


@dataclass(frozen=True)
class _Metrics:
    requests: Counter
    latency: Histogram
    pool_checked_out: Gauge
    pool_size: Gauge
    files: dict[str, Counter]


_metrics: _Metrics | None = None


def _build() -> _Metrics:
    from prometheus_client import Counter, Gauge, Histogram

    return _Metrics(
        requests=Counter(
            "wangge_http_requests_total",
            "Requests answered, by endpoint (URL rule), method and status.",
            ["endpoint", "method", "status"],
        ),
        latency=Histogram(
            "wangge_http_request_duration_seconds",
            "Time to answer a request, by endpoint (URL rule) and method.",
            ["endpoint", "method"],
            buckets=LATENCY_BUCKETS_S,
        ),
        pool_checked_out=Gauge(
            "wangge_db_pool_checked_out",
            "Connections of the pool in use, by engine (summed over live processes).",
            ["engine"],
            multiprocess_mode="livesum",
        ),
        pool_size=Gauge(
            "wangge_db_pool_size",
            "Connections the pool keeps (without overflow), by engine, over live processes.",
            ["engine"],
            multiprocess_mode="livesum",
        ),
        files={
            blueprint: Counter(name, f"Successful {blueprint} requests.", ["endpoint"])
            for blueprint, name in _COUNTED_BLUEPRINTS.items()
        },
    )


def _the_metrics() -> _Metrics:
    global _metrics
    if _metrics is None:
        _metrics = _build()
    return _metrics


def endpoint_label() -> str:
    """The URL rule that answered (`/api/v1/households/<int:household_id>`), or `unmatched`."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def _pool_use(engines: dict[str, Engine]) -> None:
    m = _the_metrics()
    for name, engine in engines.items():
        pool = engine.pool
        if isinstance(pool, QueuePool):
            m.pool_checked_out.labels(name).set(pool.checkedout())
            m.pool_size.labels(name).set(pool.size())


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started: float | None = g.get("metrics_started")
    if started is None:
        return response
    m = _the_metrics()
    endpoint = endpoint_label()
    m.requests.labels(endpoint, request.method, str(response.status_code)).inc()
    m.latency.labels(endpoint, request.method).observe(time.perf_counter() - started)
    blueprint = request.blueprint or ""
    if blueprint in m.files and response.status_code < 400:
        m.files[blueprint].labels(endpoint).inc()
    return response


def exposition(engines: dict[str, Engine]) -> tuple[bytes, str]:
    """The metrics of every process (multiprocess mode) or of this one, and their media type."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    _pool_use(engines)
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """A worker process ended: its live gauges no longer count (gunicorn's worker_exit)."""
    if os.environ.get(MULTIPROCESS_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def init_app(app: Flask, engines: dict[str, Engine]) -> None:
    _the_metrics()
    app.before_request(_started)
    app.after_request(_observe)

    def pool_use(_exc: BaseException | None) -> None:
        _pool_use(engines)

    app.teardown_appcontext(pool_use)
