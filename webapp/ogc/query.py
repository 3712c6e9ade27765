"""Query parameters of the API: the allowed ones per endpoint, bbox, paging and datetime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import abort, request

from geodata.bbox import BBoxError, parse_bbox
from geodata.params import query as request_params
from geodata.params.base import RequestError
from webapp.ogc.documents import DEFAULT_LIMIT, MAX_LIMIT


def only(*allowed: str) -> None:
    """Refuse (400) a query parameter this endpoint does not know."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        abort(400, description=f"unknown query parameter(s): {', '.join(unknown)}")


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def page() -> Page:
    """`limit` (at least 1; more than MAX_LIMIT gives MAX_LIMIT) and `offset` (default 0),
    through the shared page model (as the households pager)."""
    try:
        asked = request_params.page(request.args, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT)
    except RequestError as exc:
        abort(400, description=str(exc))
    return Page(asked.limit, asked.offset)


def bbox() -> tuple[float, float, float, float] | None:
    raw = request.args.get("bbox")
    if raw is None:
        return None
    try:
        box = parse_bbox(raw)
    except BBoxError as exc:
        abort(400, description=str(exc))
    return (box.min_lon, box.min_lat, box.max_lon, box.max_lat)


def _instant(text: str, *, end: bool) -> datetime | None:
    if text in ("..", ""):
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return (
                moment.replace(hour=23, minute=59, second=59, microsecond=999999) if end else moment
            )
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        abort(400, description="datetime: RFC 3339 instants, or an interval start/end with ..")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def time_range() -> tuple[datetime | None, datetime | None] | None:
    """The `datetime` parameter as (start, end), either open; None when absent."""
    raw = request.args.get("datetime")
    if raw is None:
        return None
    if "/" in raw:
        first, _, last = raw.partition("/")
        start, stop = _instant(first, end=False), _instant(last, end=True)
        if start and stop and start > stop:
            abort(400, description="datetime: the interval ends before it starts")
        return (start, stop)
    return (_instant(raw, end=False), _instant(raw, end=True))
