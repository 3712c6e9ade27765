"""Validation of a layer read into memory: every problem of every row, found before any write."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geodata.imports.field_values import NESTED, as_text, parse_field
from geodata.imports.geometry_checks import check_geometry
from geodata.imports.layers import (
    EXTENT_MARGIN_M,
    SOURCE_ID_MAX,
    FieldSpec,
    FieldType,
    LayerSpec,
)
from geodata.imports.report import Issue, Layer, RawLayer

ROW = "__row__"
"""The staging frame's column holding each row's feature index or CSV line."""
LABEL_COLUMNS = ("__feature__", "__line__")


@dataclass
class Checked:
    """A layer ready for staging (columns as the staging table's), or the reasons it is not."""

    frame: pd.DataFrame
    row_kind: str = "feature"
    """'feature' (0-based index) or 'line' (CSV line)."""
    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repaired: list[dict[str, Any]] = field(default_factory=list)


class Rows:
    """Turns positions in the frame into Issues naming the feature index or CSV line."""

    def __init__(self, raw: RawLayer) -> None:
        self.kind = raw.row_label
        column = f"__{raw.row_label}__"
        if column in raw.frame.columns:
            self.labels = [int(v) for v in raw.frame[column].tolist()]
        else:
            start = 2 if raw.row_label == "line" else 0
            self.labels = list(range(start, start + len(raw.frame)))
        self.issues: list[Issue] = []

    def issue(self, pos: int | None, reason: str, field_name: str | None = None) -> None:
        label = None if pos is None else self.labels[pos]
        if self.kind == "line":
            self.issues.append(Issue(reason=reason, line=label, field=field_name))
        else:
            self.issues.append(Issue(reason=reason, feature=label, field=field_name))

    def many(self, problems: dict[int, str], field_name: str | None) -> None:
        for pos, reason in problems.items():
            self.issue(pos, reason, field_name)

    def sorted(self) -> list[Issue]:
        def key(i: Issue) -> tuple[int, str]:
            where = i.feature if i.feature is not None else i.line
            return (-1 if where is None else where, i.field or "")

        return sorted(self.issues, key=key)


def match_columns(columns: Iterable[str], wanted: Iterable[str]) -> dict[str, str]:
    """Field name -> file column: exact, else ignoring case and surrounding spaces."""
    cols = [c for c in columns if isinstance(c, str)]
    folded: dict[str, str] = {}
    for c in cols:
        folded.setdefault(c.strip().casefold(), c)
    found = {}
    for name in wanted:
        if name in cols:
            found[name] = name
        elif name.casefold() in folded:
            found[name] = folded[name.casefold()]
    return found


def validate_layer(
    conn: Connection,
    spec: LayerSpec,
    raw: RawLayer,
    *,
    id_field: str | None = None,
    repair: bool = False,
) -> Checked:
    """Every problem of `raw` as `spec`'s layer: fields, links (file and database), geometry."""
    rows = Rows(raw)
    frame = raw.frame
    n = len(frame)
    out = pd.DataFrame({ROW: pd.Series(rows.labels, dtype="int64")})
    checked = Checked(frame=out, row_kind=rows.kind)
    id_name = id_field or "source_id"
    names = [id_name, *(f.name for f in spec.fields)]
    matched = match_columns(frame.columns, names)
    geometry_name = frame.geometry.name if raw.has_geometry else None
    ignored = [
        str(c)
        for c in frame.columns
        if c not in matched.values() and c not in LABEL_COLUMNS and c != geometry_name
    ]
    if ignored:
        checked.warnings.append(f"fields not used by {spec.layer.value}: {', '.join(ignored)}")

    if id_name not in matched:
        rows.issue(None, f"no {id_name!r} field (name the id field with --id-field)", id_name)
    else:
        out["source_id"] = _source_ids(
            rows, as_text(frame[matched[id_name]]).reset_index(drop=True), id_name
        )
    for spec_field in spec.fields:
        column = matched.get(spec_field.name)
        if column is None:
            if spec_field.required:
                rows.issue(None, f"required field {spec_field.name!r} is missing", spec_field.name)
            values = pd.Series([spec_field.default] * n, dtype=_dtype(spec_field))
        else:
            parsed = parse_field(spec_field, as_text(frame[column]).reset_index(drop=True))
            rows.many(parsed.problems, spec_field.name)
            values = parsed.values
            missing = values.isna().to_numpy().copy()
            missing[list(parsed.problems)] = False
            if spec_field.required:
                for pos in np.flatnonzero(missing).tolist():
                    rows.issue(pos, "required value missing", spec_field.name)
            elif spec_field.default is not None:
                values = values.where(~pd.Series(missing), spec_field.default)
        out[_stage_name(spec_field)] = values.reset_index(drop=True)

    if "source_id" in out.columns and n:
        _check_unique(conn, spec, out, rows)
        _check_links(conn, spec, out, rows)
        _check_layer_rules(spec, out, rows)
    if raw.has_geometry and spec.geometry is not None:
        _check_geometries(conn, spec, raw, out, checked, rows, repair=repair)
    elif spec.geometry is not None:
        rows.issue(None, f"{spec.layer.value} need a geometry: this file has none")
    checked.issues = rows.sorted()
    return checked


def _stage_name(spec_field: FieldSpec) -> str:
    """A link keeps its field name (the source id); the resolved id is the column."""
    return spec_field.name if spec_field.link is not None else spec_field.target


def _dtype(spec_field: FieldSpec) -> str:
    if spec_field.type is FieldType.INT:
        return "Int64"
    if spec_field.type is FieldType.FLOAT:
        return "float64"
    return "object"


def _source_ids(rows: Rows, ids: pd.Series, id_name: str) -> pd.Series:
    for pos in np.flatnonzero(ids.isna().to_numpy()).tolist():
        rows.issue(pos, "no source id", id_name)
    for pos in np.flatnonzero([v is NESTED for v in ids.tolist()]).tolist():
        rows.issue(pos, "a nested object or list is no source id", id_name)
        ids.iat[pos] = None
    long = ids.str.len().fillna(0).to_numpy() > SOURCE_ID_MAX
    for pos in np.flatnonzero(long).tolist():
        rows.issue(pos, f"source id longer than {SOURCE_ID_MAX} characters", id_name)
    present = ids.notna()
    duplicated = ids.duplicated(keep="first").to_numpy() & present.to_numpy()
    if duplicated.any():
        first = {v: pos for pos, v in reversed(list(enumerate(ids.tolist())))}
        where = "line" if rows.kind == "line" else "feature"
        for pos in np.flatnonzero(duplicated).tolist():
            earlier = rows.labels[first[ids.iat[pos]]]
            rows.issue(
                pos, f"duplicate source id {ids.iat[pos]!r} (first at {where} {earlier})", id_name
            )
    return ids


def _check_unique(conn: Connection, spec: LayerSpec, out: pd.DataFrame, rows: Rows) -> None:
    for spec_field in spec.fields:
        if not spec_field.unique:
            continue
        values = out[spec_field.target]
        dup = values.duplicated(keep="first").to_numpy() & values.notna().to_numpy()
        for pos in np.flatnonzero(dup).tolist():
            rows.issue(pos, f"{values.iat[pos]!r} is used by an earlier row", spec_field.name)
        wanted = sorted(set(values.dropna().tolist()))
        if not wanted:
            continue
        owners: dict[Any, str] = dict(
            conn.execute(
                text(
                    f"SELECT {spec_field.target}, source_id FROM {spec.table} "
                    f"WHERE {spec_field.target} = ANY(:v)"
                ),
                {"v": wanted},
            ).all()
        )
        for pos, (value, sid) in enumerate(
            zip(values.tolist(), out["source_id"].tolist(), strict=True)
        ):
            owner = owners.get(value)
            if owner is not None and owner != sid:
                rows.issue(
                    pos, f"{value!r} belongs to {spec.table} {owner!r} already", spec_field.name
                )


def _check_links(conn: Connection, spec: LayerSpec, out: pd.DataFrame, rows: Rows) -> None:
    for spec_field in spec.link_fields:
        assert spec_field.link is not None
        values = out[spec_field.name]
        wanted = sorted({str(v) for v in values.dropna().tolist()})
        if not wanted:
            continue
        known = set(
            conn.execute(
                text(f"SELECT source_id FROM {spec_field.link} WHERE source_id = ANY(:ids)"),
                {"ids": wanted},
            ).scalars()
        )
        for pos, value in enumerate(values.tolist()):
            if value is not None and value not in known:
                rows.issue(pos, f"no {spec_field.link} has source id {value!r}", spec_field.name)


def _check_layer_rules(spec: LayerSpec, out: pd.DataFrame, rows: Rows) -> None:
    if spec.layer is Layer.ENTRANCES:
        both = out["compound_source_id"].notna() & out["village_source_id"].notna()
        for pos in np.flatnonzero(both.to_numpy()).tolist():
            rows.issue(pos, "an entrance has one owner: give compound_source_id or "
                       "village_source_id, not both", "village_source_id")  # fmt: skip
    if spec.layer is Layer.RESIDENTS:
        returnee = out["returnee"].eq(True).to_numpy()
        for name in ("origin", "returned_on"):
            lacking = returnee & out[name].isna().to_numpy()
            for pos in np.flatnonzero(lacking).tolist():
                rows.issue(pos, f"a returnee needs {name}", name)


def town_extent(conn: Connection, margin_m: float) -> Any | None:
    """The villages already loaded, grown by `margin_m`, in EPSG:4326 (None: no villages)."""
    wkb = conn.execute(
        text(
            "SELECT ST_AsBinary(ST_Buffer(ST_Union(geom)::geography, :m)::geometry) FROM villages"
        ),
        {"m": margin_m},
    ).scalar()
    return None if wkb is None else shapely.from_wkb(bytes(wkb))


def _check_geometries(
    conn: Connection,
    spec: LayerSpec,
    raw: RawLayer,
    out: pd.DataFrame,
    checked: Checked,
    rows: Rows,
    *,
    repair: bool,
) -> None:
    assert spec.geometry is not None
    geoms = np.asarray(raw.frame.geometry.array, dtype=object)
    extent = town_extent(conn, EXTENT_MARGIN_M)
    result = check_geometry(
        geoms,
        spec.geometry,
        repair=repair,
        extent=extent,
        far_is_error=spec.layer is not Layer.VILLAGES,
        margin_m=EXTENT_MARGIN_M,
    )
    # a feature the reader could not read has its geometry None and its reason already
    read_failed = {i.feature if rows.kind == "feature" else i.line for i in raw.errors}
    for pos in [p for p, why in result.problems.items() if why == "no geometry"]:
        if rows.labels[pos] in read_failed:
            del result.problems[pos]
    rows.many(result.problems, "geometry")
    checked.warnings.extend(result.warnings)
    checked.repaired = [
        {rows.kind: rows.labels[pos], "reason": note}
        for pos, note in sorted(result.repaired.items())
    ]
    out["geom"] = pd.Series(result.geoms, dtype=object)
