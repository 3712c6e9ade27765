"""The `enterprises`, `passes` and `publicity-points` layers out as the CSV they are imported
from (a re-import of the file changes nothing), with the state or flag each has now.

Passes are personal: by default (`aggregate`) counts per village, a count under
`SMALLEST_COUNT` left empty; `pseudonymous` rows keep the enterprise and the days, never the
number or the person; `full` rows (those who may export personal data) are the import's,
audited. Each principal exports their own villages only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.masking import mask_name
from geodata.exports.privacy import PrivacyLevel
from geodata.records.publicity import UNCHECKED, UNCHECKED_AFTER
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import town_timezone
from geodata.records.village_scope import IN_VILLAGES

LAYERS = ("enterprises", "passes", "publicity-points")
SMALLEST_COUNT = 5

ENTERPRISES_SQL = f"""
SELECT e.source_id, e.name, e.kind, v.code AS village, e.responsible, e.staff_total,
       e.staff_local,
       (SELECT string_agg(a.code || ':' || rs.staff, ';' ORDER BY a.code)
        FROM enterprise_risk_staff AS rs JOIN risk_areas AS a ON a.id = rs.risk_area_id
        WHERE rs.enterprise_id = e.id) AS risk_staff,
       CASE WHEN GeometryType(e.geom) = 'POINT' THEN ST_X(e.geom) END AS lon,
       CASE WHEN GeometryType(e.geom) = 'POINT' THEN ST_Y(e.geom) END AS lat,
       CASE WHEN GeometryType(e.geom) <> 'POINT' THEN ST_AsText(e.geom) END AS wkt,
       coalesce(last.decision, 'pending') AS state, last.reviewed_on,
       ST_AsGeoJSON(e.geom, 15) AS geometry
FROM enterprises AS e JOIN villages AS v ON v.id = e.village_id
LEFT JOIN LATERAL (SELECT r.decision, r.reviewed_on FROM enterprise_reviews AS r
    WHERE r.enterprise_id = e.id ORDER BY r.reviewed_on DESC, r.id DESC LIMIT 1) AS last ON true
WHERE {IN_VILLAGES.format(village="e.village_id")}
ORDER BY e.id
"""  # noqa: S608 (constants of this module; values are bound)
POINTS_SQL = f"""
SELECT p.source_id, p.kind, p.content, p.put_up_on, p.last_checked_at, v.code AS village,
       CASE WHEN GeometryType(p.geom) = 'POINT' THEN ST_X(p.geom) END AS lon,
       CASE WHEN GeometryType(p.geom) = 'POINT' THEN ST_Y(p.geom) END AS lat,
       CASE WHEN GeometryType(p.geom) <> 'POINT' THEN ST_AsText(p.geom) END AS wkt,
       {UNCHECKED} AS unchecked, ST_AsGeoJSON(p.geom, 15) AS geometry
FROM publicity_points AS p JOIN villages AS v ON v.id = p.village_id
WHERE {IN_VILLAGES.format(village="p.village_id")}
ORDER BY p.id
"""  # noqa: S608 (constants of this module; values are bound)
PASSES_FROM = f"""
FROM passes AS p JOIN enterprises AS e ON e.id = p.enterprise_id
JOIN villages AS v ON v.id = e.village_id
LEFT JOIN residents AS r ON r.id = p.resident_id
WHERE {IN_VILLAGES.format(village="e.village_id")}
"""
PASSES_SQL = {
    PrivacyLevel.FULL: "SELECT p.number, e.source_id AS enterprise, r.source_id AS resident,"
    " p.person_name AS name, p.person_id_number AS id_number, p.valid_from, p.valid_until, p.id"
    f" {PASSES_FROM} ORDER BY p.id",
    PrivacyLevel.PSEUDONYMOUS: "SELECT e.source_id AS enterprise, v.code AS village,"
    " CASE WHEN p.resident_id IS NULL THEN 'other' ELSE 'resident' END AS person,"
    f" p.valid_from, p.valid_until {PASSES_FROM} ORDER BY e.source_id, p.valid_from, p.id",
    PrivacyLevel.AGGREGATE: "SELECT v.code AS village, count(*) AS passes,"
    " count(*) FILTER (WHERE :today BETWEEN p.valid_from AND p.valid_until) AS valid_today,"
    " count(p.resident_id) AS residents, count(*) - count(p.resident_id) AS others"
    f" {PASSES_FROM} GROUP BY v.code ORDER BY v.code",
}
PASS_ACTION = {
    PrivacyLevel.AGGREGATE: Action.EXPORT_AGGREGATE,
    PrivacyLevel.PSEUDONYMOUS: Action.EXPORT_PSEUDONYMOUS,
    PrivacyLevel.FULL: Action.EXPORT_PERSONAL,
}


def _villages(conn: Connection, principal: Principal) -> list[int] | None:
    if principal.grid_ids is None:
        return None
    return list(
        conn.execute(
            text("SELECT DISTINCT village_id FROM grids WHERE id = ANY(:g) ORDER BY 1"),
            {"g": sorted(principal.grid_ids)},
        ).scalars()
    )


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return value.isoformat() if hasattr(value, "isoformat") else value


def _write(output: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool) -> int:
    partial = output.with_name(output.name + ".part")
    written = 0
    with partial.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(v) for v in row])
            written += 1
    partial.replace(output)
    return written


def _write_geojson(output: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """A FeatureCollection of the rows: `geometry` as each feature's geometry, the other
    fields (but lon, lat and wkt) as its properties."""
    partial = output.with_name(output.name + ".part")
    names = [h for h in header if h not in ("geometry", "lon", "lat", "wkt")]
    written = 0
    with partial.open("wb") as out:
        out.write(b'{"type":"FeatureCollection","features":[')
        for row in rows:
            values = dict(zip(header, row, strict=True))
            feature = {
                "type": "Feature",
                "geometry": orjson.Fragment(values["geometry"]),
                "properties": {name: _json_value(values[name]) for name in names},
            }
            out.write((b"," if written else b"") + orjson.dumps(feature))
            written += 1
        out.write(b"]}\n")
    partial.replace(output)
    return written


def _json_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _suppressed(count: int) -> int | None:
    return None if count < SMALLEST_COUNT else count


def export_layer(
    conn: Connection,
    principal: Principal,
    layer: str,
    output: Path,
    *,
    privacy: PrivacyLevel | None = None,
    bom: bool = False,
    geojson: bool = False,
) -> tuple[int, str]:
    """Write `layer` to `output` (beside it, then renamed): (rows written, privacy level).
    `geojson`: enterprises and publicity points as a FeatureCollection, the CSV's fields
    but the position as properties (imported back unchanged)."""
    if geojson and layer == "passes":
        raise RecordRefused("export passes: format: passes have no geometry: CSV only")
    villages = _villages(conn, principal)
    zone = town_timezone(conn)
    now = datetime.now(UTC)
    params = {"villages": villages, "zone": zone.key, "at": now, "after": UNCHECKED_AFTER,
              "today": now.astimezone(zone).date()}  # fmt: skip
    if layer != "passes":
        if privacy not in (None, PrivacyLevel.FULL):
            raise RecordRefused(f"export {layer}: privacy: no personal data: leave it out")
        principal.require(Action.VIEW_MAP)
        sql = ENTERPRISES_SQL if layer == "enterprises" else POINTS_SQL
        result = conn.execute(text(sql), params)
        header = list(result.keys())
        rows: list[list[Any]] = [list(r) for r in result]
        if layer == "enterprises" and not principal.can(Action.VIEW_HOUSEHOLDS):
            at = header.index("responsible")
            for row in rows:
                row[at] = mask_name(row[at])
        if layer == "publicity-points":
            at = header.index("last_checked_at")
            for row in rows:
                row[at] = None if row[at] is None else row[at].astimezone(zone)
        if geojson:
            written = _write_geojson(output, header, rows)
        else:
            at = header.index("geometry")
            written = _write(output, header[:at] + header[at + 1 :],
                             (row[:at] + row[at + 1 :] for row in rows), bom=bom)  # fmt: skip
        level = "public"
    else:
        chosen = privacy or PrivacyLevel.AGGREGATE
        principal.require(PASS_ACTION[chosen])
        result = conn.execute(text(PASSES_SQL[chosen]), params)
        header = [k for k in result.keys() if k != "id"]  # noqa: SIM118 (a Result, not a dict)
        found = [dict(r._mapping) for r in result]
        if chosen is PrivacyLevel.AGGREGATE:
            for each in found:
                for name in ("passes", "valid_today", "residents", "others"):
                    each[name] = _suppressed(int(each[name]))
        written = _write(output, header, ([each[h] for h in header] for each in found), bom=bom)
        level = chosen.value
        if chosen is PrivacyLevel.FULL:
            audit.record(conn, actor=principal.name, action="export", object_type="pass",
                         object_ids=[int(each["id"]) for each in found], row_count=written,
                         detail={"layer": layer, "privacy": level})  # fmt: skip
            return written, level
    audit.record(conn, actor=principal.name, action="export", object_type=layer.replace("-", "_"),
                 row_count=written, detail={"layer": layer, "privacy": level})  # fmt: skip
    return written, level
