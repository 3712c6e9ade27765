"""The `enterprises`, `passes` and `publicity-points` layers: CSV files (or a GeoJSON
FeatureCollection, its properties as the fields and its geometry as `wkt`), all or nothing.

Each row is written through its record's own checks (`geodata.records.enterprises`,
`passes`, `publicity`) and upserted by its key (a source id; a pass by its number): a row
imported again unchanged counts as unchanged, a changed one as updated. Every failing row is
named by line, field and reason; names and ID numbers are never echoed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from geodata.auth import audit
from geodata.imports.csv_records import read_rows
from geodata.imports.feature_rows import GEOJSON_SUFFIXES, read_features
from geodata.imports.report import ImportReport, Issue
from geodata.records import enterprises, passes, publicity
from geodata.records.placed import Where
from geodata.records.refusal import RecordRefused
from geodata.records.risk_areas import parse_day

ENTERPRISES = "enterprises"
PASSES = "passes"
PUBLICITY = "publicity-points"
_WHERE = {
    "village": "a village code (or source id); default: the village containing it",
    "lon": "WGS84 longitude of a point (with lat)",
    "lat": "WGS84 latitude of a point (with lon)",
    "wkt": "the geometry as WKT in WGS84, instead of lon and lat",
}
FIELDS: dict[str, dict[str, str]] = {
    ENTERPRISES: {
        "source_id": "text, required: the enterprise's key",
        "name": "text, required",
        "kind": f"one of {', '.join(enterprises.KINDS)}, required",
        "responsible": "text, required: the person responsible",
        "staff_total": "a whole number >= 0, required",
        "staff_local": "a whole number from 0 to staff_total (default 0)",
        "risk_staff": "staff per risk area: CODE:COUNT pairs separated by ; (e.g. WH:12;HB:3)",
        **_WHERE,
        "wkt": "a Point, Polygon or MultiPolygon as WKT in WGS84, instead of lon and lat",
    },
    PASSES: {
        "number": "text, required: the pass number (its key), at most 32 characters",
        "enterprise": "an enterprise's source id, required: approved on or before valid_from",
        "resident": "a resident's source id (a person of the town); else name and id_number",
        "name": "the person's name (personal data), when not a resident",
        "id_number": "the person's identity card number (personal data), with name",
        "valid_from": "the first day (YYYY-MM-DD), required",
        "valid_until": "the last day (YYYY-MM-DD), required: not before valid_from",
    },
    PUBLICITY: {
        "source_id": "text, required: the point's key",
        "kind": f"one of {', '.join(publicity.KINDS)}, required",
        "content": "text, required: what it says",
        "put_up_on": "the day put up (YYYY-MM-DD), required, not in the future",
        "last_checked_at": "the last check (ISO 8601 with an offset), optional; never moved back",
        **_WHERE,
        "wkt": "a Point, or a LineString for a loudspeaker route, as WKT in WGS84",
    },
}
"""The fields of each layer and what they hold (for `--help` and docs/IMPORT.md)."""
REQUIRED = {
    ENTERPRISES: ("source_id", "name", "kind", "responsible", "staff_total"),
    PASSES: ("number", "enterprise", "valid_from", "valid_until"),
    PUBLICITY: ("source_id", "kind", "content", "put_up_on"),
}
KEY = {ENTERPRISES: "source_id", PASSES: "number", PUBLICITY: "source_id"}


def _reason(exc: RecordRefused) -> tuple[str, str]:
    """(field, reason) from a refusal 'record: field: reason'."""
    parts = str(exc).split(": ", 2)
    return (parts[1], parts[2]) if len(parts) == 3 else ("", str(exc))


def _number(record: str, raw: dict[str, str], name: str, kind: Callable[[str], Any]) -> Any:
    value = raw.get(name) or None
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise RecordRefused(f"{record}: {name}: {value!r} is not a number") from None


def _where(record: str, raw: dict[str, str]) -> Where:
    return Where(
        lon=_number(record, raw, "lon", float),
        lat=_number(record, raw, "lat", float),
        wkt=raw.get("wkt") or None,
        village=raw.get("village") or None,
    )


def _enterprise(conn: Connection, raw: dict[str, str], actor: str, now: datetime) -> str:
    key = raw.get("source_id", "")
    record = f"enterprise {key!r}"
    fields = enterprises.EnterpriseFields(
        name=raw.get("name", ""), kind=raw.get("kind", ""),
        responsible=raw.get("responsible", ""),
        staff_total=_number(record, raw, "staff_total", int),
        staff_local=_number(record, raw, "staff_local", int) or 0,
        risk_staff=enterprises.parse_risk_staff(record, raw.get("risk_staff")),
        where=_where(record, raw),
    )  # fmt: skip
    return enterprises.upsert(conn, key, fields)[0]


def _pass(conn: Connection, raw: dict[str, str], actor: str, now: datetime) -> str:
    key = raw.get("number", "")
    record = f"pass {key!r}"
    fields = passes.PassFields(
        enterprise=raw.get("enterprise", ""), resident=raw.get("resident") or None,
        name=raw.get("name") or None, id_number=raw.get("id_number") or None,
        valid_from=parse_day(record, "valid_from", raw.get("valid_from")),
        valid_until=parse_day(record, "valid_until", raw.get("valid_until")),
    )  # fmt: skip
    return passes.upsert(conn, key, fields, actor=actor)[0]


def _point(conn: Connection, raw: dict[str, str], actor: str, now: datetime) -> str:
    key = raw.get("source_id", "")
    record = f"publicity point {key!r}"
    checked = raw.get("last_checked_at") or None
    try:
        last = None if checked is None else datetime.fromisoformat(checked)
    except ValueError:
        raise RecordRefused(f"{record}: last_checked_at: not an ISO 8601 date-time") from None
    fields = publicity.PointFields(
        kind=raw.get("kind", ""), content=raw.get("content", ""),
        put_up_on=parse_day(record, "put_up_on", raw.get("put_up_on")),
        last_checked_at=last, where=_where(record, raw),
    )  # fmt: skip
    return publicity.upsert(conn, key, fields, now=now)[0]


ROW = {ENTERPRISES: _enterprise, PASSES: _pass, PUBLICITY: _point}


def import_layer(
    conn: Connection,
    layer: str,
    path: Path,
    *,
    actor: str,
    encoding: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Every row of the file, or none; the report names each failing row."""
    report = ImportReport(layer=layer, file=path.name, dry_run=dry_run)
    geojson = path.suffix.lower() in GEOJSON_SUFFIXES
    if geojson:
        rows = read_features(path, encoding=encoding)
    else:
        rows = read_rows(path, encoding=encoding, required=REQUIRED[layer])
    key, write = KEY[layer], ROW[layer]
    now = datetime.now(UTC)
    seen: dict[str, int] = {}
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    savepoint = conn.begin_nested()
    try:
        for at, raw in rows:
            where = {"feature": at} if geojson else {"line": at}
            value = raw.get(key, "")
            if value in seen:
                again = f"feature {seen[value]}" if geojson else f"line {seen[value]}"
                report.errors.append(Issue(reason=f"{value}: also {again}", field=key, **where))
                continue
            seen[value] = at
            try:
                with conn.begin_nested():
                    outcome = write(conn, raw, actor, now)
            except RecordRefused as exc:
                field, reason = _reason(exc)
                report.errors.append(Issue(reason=f"{value}: {reason}", field=field, **where))
                continue
            counts[outcome] += 1
        if not report.errors:
            report.inserted, report.updated = counts["inserted"], counts["updated"]
            report.unchanged = counts["unchanged"]
        if report.errors or dry_run:
            savepoint.rollback()
            return report
        audit.record(conn, actor=actor, action="import", object_type=layer.replace("-", "_"),
                     row_count=counts["inserted"] + counts["updated"],
                     detail={"layer": layer, "file": path.name, **counts})  # fmt: skip
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    return report
