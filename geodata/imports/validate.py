"""Validation of a layer read into memory: every problem of every row, found before any write."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geodata.identifiers import identifier_problem
from geodata.imports.field_values import NESTED, as_text, parse_field, parse_integers
from geodata.imports.geometry_checks import check_geometry
from geodata.imports.layers import EXTENT_MARGIN_M, SOURCE_ID_MAX, FieldSpec, FieldType, LayerSpec
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
    skipped: list[dict[str, Any]] = field(default_factory=list)
    """Features left out (`skip_invalid`): their geometry could not be read or repaired."""


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
    validator = Validator(conn, spec, id_field=id_field, repair=repair)
    checked = validator.chunk(raw)
    checked.issues, checked.warnings = validator.finish()
    return checked


class Validator:
    """Validates a file chunk by chunk, remembering what spans chunks: the source ids and
    unique values seen (with the row that had each first), the fields found, the warnings."""

    def __init__(
        self,
        conn: Connection,
        spec: LayerSpec,
        *,
        id_field: str | None,
        repair: bool,
        skip_invalid: bool = False,
    ) -> None:
        self.conn = conn
        self.spec = spec
        self.id_name = id_field or "source_id"
        self.repair = repair
        self.skip_invalid = skip_invalid
        self.kind = "feature"
        self.seen_ids: dict[Any, int] = {}
        self.seen_unique: dict[str, dict[Any, int]] = {}
        self.found: set[str] = set()
        """Fields present in at least one chunk."""
        self.absent: dict[str, list[Issue]] = {}
        """Per-row issues of fields absent from a chunk; reported if the field is found
        elsewhere in the file, else replaced by one file-level issue."""
        self.ignored: dict[str, None] = {}
        self.issues: list[Issue] = []
        self.warnings: list[str] = []
        self.no_geometry = False
        self._extent: Any = None
        self._extent_read = False
        self.pause: Callable[[], None] = lambda: None
        """Called before a query: frees the connection (of a COPY kept open between chunks)."""

    @property
    def failed(self) -> bool:
        """Whether some chunk so far has a problem (the file will be refused)."""
        return bool(self.issues or self.absent or self.no_geometry)

    def extent(self) -> Any | None:
        if not self._extent_read:
            self.pause()
            self._extent = town_extent(self.conn, EXTENT_MARGIN_M)
            self._extent_read = True
        return self._extent

    def chunk(self, raw: RawLayer) -> Checked:
        """One chunk of rows: its staging frame, repairs and warnings; issues kept for `finish`."""
        spec = self.spec
        rows = Rows(raw)
        self.kind = rows.kind
        frame = raw.frame
        n = len(frame)
        out = pd.DataFrame({ROW: pd.Series(rows.labels, dtype="int64")})
        checked = Checked(frame=out, row_kind=rows.kind)
        id_name = self.id_name
        names = [id_name, *(f.name for f in spec.fields)]
        matched = match_columns(frame.columns, names)
        self.found.update(matched)
        geometry_name = frame.geometry.name if raw.has_geometry else None
        for c in frame.columns:
            if c not in matched.values() and c not in LABEL_COLUMNS and c != geometry_name:
                self.ignored.setdefault(str(c), None)

        if spec.key:
            out["source_id"] = pd.Series([None] * n, dtype=object)  # the pair, after the fields
        elif id_name not in matched:
            absent = self.absent.setdefault(id_name, [])
            absent.extend(_label_issue(rows, pos, "no source id", id_name) for pos in range(n))
            out["source_id"] = pd.Series([None] * n, dtype=object)
        else:
            out["source_id"] = self._source_ids(
                rows, as_text(frame[matched[id_name]]).reset_index(drop=True), id_name
            )
        for spec_field in spec.fields:
            column = matched.get(spec_field.name)
            if column is None:
                if spec_field.required:
                    absent = self.absent.setdefault(spec_field.name, [])
                    absent.extend(
                        _label_issue(rows, pos, "required value missing", spec_field.name)
                        for pos in range(n)
                    )
                values = pd.Series([spec_field.default] * n, dtype=_dtype(spec_field))
            else:
                given = frame[column].reset_index(drop=True)
                parsed = parse_integers(spec_field, given) or parse_field(
                    spec_field, as_text(given)
                )
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

        if spec.key:
            out["source_id"] = self._pair_ids(rows, out)
        if (id_name in matched or spec.key) and n:
            if any(f.unique for f in spec.fields) or any(
                out[f.name].notna().any() for f in spec.link_fields
            ):
                self.pause()
            self._check_unique(out, rows)
            _check_links(self.conn, spec, out, rows)
            _check_layer_rules(spec, out, rows)
        if raw.has_geometry and spec.geometry is not None:
            _check_geometries(self.extent(), spec, raw, out, checked, rows, repair=self.repair)
            if self.skip_invalid:
                _skip_invalid(raw, checked, rows)
        elif spec.geometry is not None:
            self.no_geometry = True
        self.issues.extend(rows.issues)
        return checked

    def finish(self) -> tuple[list[Issue], list[str]]:
        """Every issue of every chunk, in row order; the warnings of the whole file."""
        spec = self.spec
        for name, issues in self.absent.items():
            if name in self.found:
                self.issues.extend(issues)
            elif name == self.id_name:
                self.issues.append(
                    Issue(
                        reason=f"no {name!r} field (name the id field with --id-field)",
                        field=name,
                    )
                )
            else:
                self.issues.append(Issue(reason=f"required field {name!r} is missing", field=name))
        if self.no_geometry:
            self.issues.append(
                Issue(reason=f"{spec.layer.value} need a geometry: this file has none")
            )
        warnings = []
        if self.ignored:
            warnings.append(f"fields not used by {spec.layer.value}: {', '.join(self.ignored)}")
        return sorted(self.issues, key=_issue_order), warnings

    def _source_ids(self, rows: Rows, ids: pd.Series, id_name: str) -> pd.Series:
        for pos in np.flatnonzero(ids.isna().to_numpy()).tolist():
            rows.issue(pos, "no source id", id_name)
        for pos in np.flatnonzero([v is NESTED for v in ids.tolist()]).tolist():
            rows.issue(pos, "a nested object or list is no source id", id_name)
            ids.iat[pos] = None
        long = ids.str.len().fillna(0).to_numpy() > SOURCE_ID_MAX
        for pos in np.flatnonzero(long).tolist():
            rows.issue(pos, f"source id longer than {SOURCE_ID_MAX} characters", id_name)
        where = "line" if rows.kind == "line" else "feature"
        seen = self.seen_ids
        for pos, (value, label) in enumerate(zip(ids.tolist(), rows.labels, strict=True)):
            if value is None:
                continue
            problem = identifier_problem(value)
            if problem is not None:
                rows.issue(pos, f"the source id {problem}", id_name)
                ids.iat[pos] = None  # never sent on to a query (NUL breaks them)
                continue
            first = seen.setdefault(value, label)
            if first != label:
                rows.issue(
                    pos, f"duplicate source id {value!r} (first at {where} {first})", id_name
                )
        return ids

    def _pair_ids(self, rows: Rows, out: pd.DataFrame) -> pd.Series:
        """A keyed layer's row key: its key fields joined; a pair seen before is named."""
        key = self.spec.key
        where = "line" if rows.kind == "line" else "feature"
        ids: list[str | None] = []
        parts = zip(*(out[name].tolist() for name in key), strict=True)
        for pos, (values, label) in enumerate(zip(parts, rows.labels, strict=True)):
            if any(v is None or v is pd.NA for v in values):
                ids.append(None)
                continue
            pair = "\t".join(str(v) for v in values)
            first = self.seen_ids.setdefault(pair, label)
            if first != label:
                rows.issue(pos, f"the same pair is in the file already ({where} {first})", key[-1])
            ids.append(pair)
        return pd.Series(ids, dtype=object)

    def _check_unique(self, out: pd.DataFrame, rows: Rows) -> None:
        spec = self.spec
        for spec_field in spec.fields:
            if not spec_field.unique:
                continue
            values = out[spec_field.target]
            seen = self.seen_unique.setdefault(spec_field.name, {})
            for pos, (value, label) in enumerate(zip(values.tolist(), rows.labels, strict=True)):
                if value is None or value is pd.NA:
                    continue
                if seen.setdefault(value, label) != label:
                    rows.issue(pos, f"{value!r} is used by an earlier row", spec_field.name)
            wanted = sorted(set(values.dropna().tolist()))
            if not wanted:
                continue
            owners: dict[Any, str] = dict(
                self.conn.execute(
                    text(
                        f"SELECT {spec_field.target}, source_id FROM {spec.table} "  # noqa: S608 (table and column names from the layer spec; values are bound)
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


def _label_issue(rows: Rows, pos: int, reason: str, field_name: str) -> Issue:
    label = rows.labels[pos]
    if rows.kind == "line":
        return Issue(reason=reason, line=label, field=field_name)
    return Issue(reason=reason, feature=label, field=field_name)


def _issue_order(i: Issue) -> tuple[int, str]:
    where = i.feature if i.feature is not None else i.line
    return (-1 if where is None else where, i.field or "")


def _stage_name(spec_field: FieldSpec) -> str:
    """A link keeps its field name (the source id); the resolved id is the column."""
    return spec_field.name if spec_field.link is not None else spec_field.target


def _dtype(spec_field: FieldSpec) -> str:
    if spec_field.type is FieldType.INT:
        return "Int64"
    if spec_field.type is FieldType.FLOAT:
        return "float64"
    return "object"


def _check_links(conn: Connection, spec: LayerSpec, out: pd.DataFrame, rows: Rows) -> None:
    """Every link must name a row of its table; the ids found go into the link's column."""
    for spec_field in spec.link_fields:
        assert spec_field.link is not None
        if spec_field.deferred:
            continue
        values = out[spec_field.name]
        wanted = sorted({str(v) for v in values.dropna().tolist()})
        if not wanted:
            continue
        known: dict[str, int] = dict(
            conn.execute(
                text(
                    f"SELECT {spec_field.link_key}, id FROM {spec_field.link} "  # noqa: S608 (table and column names from the layer spec; values are bound)
                    f"WHERE {spec_field.link_key} = ANY(:ids)"
                ),
                {"ids": wanted},
            ).all()
        )
        key = spec_field.link_key.replace("_", " ")
        for pos, value in enumerate(values.tolist()):
            if value is not None and value not in known:
                rows.issue(pos, f"no {spec_field.link} has {key} {value!r}", spec_field.name)
        out[spec_field.target] = pd.Series(
            [known.get(v) if v is not None else None for v in values.tolist()], dtype="Int64"
        )


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
    extent: Any | None,
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
    rows.many(result.problems, GEOMETRY)
    checked.warnings.extend(result.warnings)
    checked.repaired = [
        {rows.kind: rows.labels[pos], "reason": note}
        for pos, note in sorted(result.repaired.items())
    ]
    out["geom"] = pd.Series(result.geoms, dtype=object)


GEOMETRY = "geometry"


def _skip_invalid(raw: RawLayer, checked: Checked, rows: Rows) -> None:
    """Leave out every row whose geometry could not be read or repaired, listing each under
    `skipped` (feature or line, reason) instead of refusing the file; the file's other
    problems still refuse it."""
    position = {label: pos for pos, label in enumerate(rows.labels)}
    skipped: dict[int, str] = {}
    kept_issues = []
    for issue in rows.issues:
        label = issue.line if rows.kind == "line" else issue.feature
        if issue.field == GEOMETRY and label in position:
            skipped.setdefault(position[label], issue.reason)
        else:
            kept_issues.append(issue)
    kept_errors = []
    for issue in raw.errors:
        label = issue.line if rows.kind == "line" else issue.feature
        if issue.field == GEOMETRY and label in position:
            skipped.setdefault(position[label], issue.reason)
        else:
            kept_errors.append(issue)
    if not skipped:
        return
    rows.issues[:] = kept_issues
    raw.errors[:] = kept_errors
    checked.skipped = [
        {rows.kind: rows.labels[pos], "reason": why} for pos, why in sorted(skipped.items())
    ]
    checked.frame = checked.frame.drop(index=sorted(skipped)).reset_index(drop=True)
