"""The staging table an import is copied into before it is upserted: per import, temporary."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, text

from geodata.imports.layers import SQL_TYPES, LayerSpec
from geodata.imports.validate import ROW

STAGE = "import_stage"


def create_stage(conn: Connection, spec: LayerSpec, frame: pd.DataFrame) -> list[str]:
    """The staging table: the checked columns, the ids to resolve, the geometry. No
    constraints and no indexes: every row was checked before it is copied here, and the
    table's own constraints check them again on the way in. Returns the columns copied."""
    types = {f.name if f.link is not None else f.target: SQL_TYPES[f.type] for f in spec.fields}
    copied = [ROW, "source_id", *(c for c in frame.columns if c in types)]
    columns = [f'"{ROW}" bigint', "source_id text"]
    columns += [f'"{c}" {types[c]}' for c in frame.columns if c in types]
    columns += [f'"{c}" bigint' for c in spec.id_columns]
    if spec.geometry is not None:
        columns.append("geom geometry(Geometry, 4326)")
        copied.append("geom")
    conn.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))
    conn.execute(text(f"CREATE TEMP TABLE {STAGE} ({', '.join(columns)}) ON COMMIT DROP"))
    return copied
