"""The 18:00 summary (汇总): `GET /api/v1/daily/summary?date=` (JSON), `.csv` and `.pdf`
(the same numbers), and the commanders' page `/daily/summary?date=` with the town's figures, the
villages' table, charts of the last 14 days, the units that did not report and the map
snapshot. Frozen once issued (see `geodata.records.daily_summary`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from markupsafe import Markup

from geodata.auth.access import Action
from geodata.exports.summary_pdf import summary_pdf
from geodata.records.daily_summary import SERIES, as_csv
from geodata.records.town_settings import town_timezone
from geodata.services.daily_summary import summary
from webapp.infra import database
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("daily_summary", __name__)

CHART_W, CHART_H = 280, 60


def _day(conn: Any) -> date:
    raw = request.args.get("date", "").strip()
    if not raw:
        return datetime.now(town_timezone(conn)).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, "date: a date as YYYY-MM-DD")


def _read() -> dict[str, Any]:
    with database.engine().begin() as conn:
        return summary(conn, principal(), _day(conn))


@bp.get("/api/v1/daily/summary")
@requires(Action.VIEW_COVERAGE)
def api_summary() -> Response:
    return json_response(_read())


def _attachment(content: str | bytes, mimetype: str, suffix: str, day: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="summary-{day}.{suffix}"'
    return response


@bp.get("/api/v1/daily/summary.csv")
@requires(Action.VIEW_COVERAGE)
def csv_summary() -> Response:
    body = _read()
    return _attachment(as_csv(body), "text/csv", "csv", body["date"])


@bp.get("/api/v1/daily/summary.pdf")
@requires(Action.VIEW_COVERAGE)
def pdf_summary() -> Response:
    body = _read()
    return _attachment(summary_pdf(body), "application/pdf", "pdf", body["date"])


def _chart(series: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """A line of the last days' values as SVG points (None values left out)."""
    values = [s.get(key) for s in series]
    known = [float(v) for v in values if v is not None]
    top = max(known) if known else 0.0
    step = CHART_W / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{CHART_H - (float(v) / top * CHART_H if top else 0):.1f}"
        for i, v in enumerate(values)
        if v is not None
    )
    return {"key": key, "points": points, "last": values[-1] if values else None, "top": top}


@bp.get("/daily/summary")
@requires(Action.VIEW_COVERAGE)
def page() -> str:
    body = _read()
    charts = [_chart(body.get("series", []), key) for key in SERIES] if "series" in body else []
    return render_template(
        "daily_summary.html",
        s=body,
        charts=charts,
        width=CHART_W,
        height=CHART_H,
        map_svg=Markup(body.get("map_svg") or ""),  # noqa: S704 (SVG made by the server from geometry and fixed colours)
    )
