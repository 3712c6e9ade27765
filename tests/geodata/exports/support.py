"""What the export tests share: principals, the key, one export run and its features read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, text

from geodata.auth.access import Principal, local_operator
from geodata.exports.run import ExportRequest, ExportResult, export_to_file
from geodata.vocab import Role
from tests.conftest import TestDatabase

KEY = b"k" * 40
ADMIN = local_operator("tester")
ANALYST = Principal(name="analyst-1", role=Role.ANALYST)
PLANNER = Principal(name="planner-1", role=Role.PLANNER)


def export(
    db: TestDatabase, tmp: Path, request: ExportRequest, who: Principal = ADMIN, *, key: bytes = KEY
) -> tuple[Path, ExportResult]:
    path = tmp / f"{request.layer}-{request.privacy}-{request.level}.{request.fmt.value}"
    with db.app.begin() as conn:
        result = export_to_file(conn, who, request, path, pseudonym_key=lambda: key)
    return path, result


def rows_of(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def geojson_features(path: Path) -> list[dict[str, Any]]:
    doc = orjson.loads(path.read_bytes())
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    features: list[dict[str, Any]] = doc["features"]
    return features
