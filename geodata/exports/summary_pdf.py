"""The 18:00 summary as a PDF with the same numbers as its page and CSV, rendered on the
server by WeasyPrint with the Noto CJK fonts embedded (the text is escaped; the map
snapshot is the summary's own SVG of grid outlines and fixed colours)."""

from __future__ import annotations

from html import escape
from typing import Any

FONT = '"Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif'
STYLE = (
    "body { font-family: " + FONT + "; font-size: 9pt; } h1 { font-size: 14pt; }"
    " h2 { font-size: 11pt; margin-top: 1em; } table { border-collapse: collapse; }"
    " td, th { border: 0.5pt solid #999; padding: 1pt 3pt; text-align: right; }"
    " @page { size: A4 landscape; margin: 1cm; }"
)
HEADINGS = {
    "title": "每日汇总 Daily summary",
    "town": "全镇 The town",
    "villages": "各村 Villages",
    "series": "近14天 The last 14 days",
    "missing": "未报告 Not reported",
    "amended": "发布后的更正 Amended since issued",
    "map": "地图 Map",
}


def _cell(value: object) -> str:
    return "—" if value is None else escape(str(value))


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_html(body: dict[str, Any]) -> str:
    """The summary as one HTML document (what the PDF is made of)."""
    town = body["town"]
    villages = body.get("villages", [])
    village_columns = [c for c in (villages[0] if villages else {}) if c != "village"]
    issued = body.get("issued_at") or "—"
    parts = [
        f"<h1>{HEADINGS['title']} · {escape(body['date'])}</h1>",
        f"<p>{escape(str(issued))}</p>",
        f"<h2>{HEADINGS['town']}</h2>",
        _table([town], list(town)),
        f"<h2>{HEADINGS['villages']}</h2>",
        _table(villages, village_columns),
    ]
    if body.get("series"):
        parts += [f"<h2>{HEADINGS['series']}</h2>", _table(body["series"], list(body["series"][0]))]
    missing = body.get("not_reported", [])
    parts += [f"<h2>{HEADINGS['missing']}</h2>", _table(missing, ["name", "kind"])]
    if body.get("amendments"):
        parts += [f"<h2>{HEADINGS['amended']}</h2>", _table(body["amendments"], ["unit", "at"])]
    if body.get("map_svg"):
        parts += [f"<h2>{HEADINGS['map']}</h2>", str(body["map_svg"])]
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>{STYLE}</style>'
        f"</head><body>{''.join(parts)}</body></html>"
    )


def summary_pdf(body: dict[str, Any]) -> bytes:
    """The summary as a PDF."""
    # Imported here: WeasyPrint and Pango only for a PDF.
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(string=summary_html(body)).write_pdf()
    return pdf
