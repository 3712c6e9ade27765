"""Logs as JSON lines, each request's with its request id: the method, the endpoint's URL rule
(never the raw path or query, which may carry names or ID numbers), the status and the time."""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import IO, Any

import orjson
from flask import Flask, Response, g, has_request_context, request

from webapp.infra.metrics import endpoint_label

log = logging.getLogger("wangge.request")

REQUEST_ID_HEADER = "X-Request-Id"
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class JsonLines(logging.Formatter):
    """One JSON object a line. An exception is logged by its class and stack only: its message
    may quote a stored value (a unique key's DETAIL names the value)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and g.get("request_id"):
            line["request_id"] = g.request_id
        line.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            kind, _exc, tb = record.exc_info
            line["exception"] = kind.__qualname__
            line["stack"] = "".join(traceback.format_tb(tb))
        return orjson.dumps(line).decode()


def configure(stream: IO[str] | None = None, *, level: int = logging.INFO) -> None:
    """Every log record of this process to `stream` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" chatter


def _begin() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _GOOD_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _end(response: Response) -> Response:
    started: float | None = g.get("request_started")
    request_id: str = g.get("request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    if started is not None:
        log.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "endpoint": endpoint_label(),
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                }
            },
        )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_end)
