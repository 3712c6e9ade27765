"""OpenStreetMap extracts as they come: source ids from OSM ids, features picked by their tags.

Applies to an OSM PBF and to files derived from one that keep the OSM ids: GDAL's OSM driver
columns (`osm_id`, and `osm_way_id` in its multipolygons layer) or `id` + `osm_type` (as in
GeoPackages written by other converters). It is not applied when the file has a `source_id`
field or when `--id-field` names one: such a file is read as any other.

* source_id is `osm:{node|way|relation}/{id}` (as the sample town's); a feature of several
  parts that a single-part layer cannot hold is split, one row per part, `#1`, `#2`, ... after
  the id, in the file's order of the parts (so a re-import finds the same ids).
* buildings: features with a `building` tag (not `building=no`); `use` is its value, `floors`
  the `building:levels` tag when it is a number (rounded, at least 1, at most 200).
* roads: lines with a `highway` tag; `highway` is its value.
* villages: `boundary=administrative` with `admin_level=8`; `code` is the `ref` tag when it has
  one (of at most 32 characters), else `osm-` and the type's first letter and the id
  (`osm-r1155955`); `name` is the `name` tag, else the code; `kind` is village.
* compounds: `landuse=residential`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geodata.imports.field_values import as_text
from geodata.imports.report import Layer, RawLayer

FEATURE_COLUMN = "__feature__"
CODE_MAX = 32
USE_MAX = 64
HIGHWAY_MAX = 32
FLOORS_MAX = 200
POLYGONAL = (3, 6)
LINEAR = (1, 5)
MULTI = {6: "MultiPolygon", 5: "MultiLineString"}
_HSTORE_COLUMN = "other_tags"
_JSON_COLUMN = "tags"
Mask = npt.NDArray[np.bool_]


def recognised(columns: pd.Index) -> bool:
    """True when the columns are those of an OSM extract (GDAL's OSM driver, or id + osm_type)."""
    names = set(columns)
    return "osm_id" in names or {"id", "osm_type"} <= names


def applies(layer: Layer, raw: RawLayer, *, id_field: str | None) -> bool:
    """Whether `raw` is read as an OSM extract for `layer` (see the module's description)."""
    if layer not in _RULES or id_field is not None:
        return False
    columns = [str(c) for c in raw.frame.columns]
    if any(c.strip().casefold() == "source_id" for c in columns):
        return False
    return recognised(raw.frame.columns)


class Tags:
    """Tag values of every feature: from a column of the tag's name, else `other_tags`/`tags`."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __call__(self, key: str) -> pd.Series:
        n = len(self.frame)
        values = pd.Series([None] * n, index=self.frame.index, dtype=object)
        for column in (key, key.replace(":", "_")):
            if column in self.frame.columns and column != self.frame.geometry.name:
                values = as_text(self.frame[column])
                break
        missing = values.isna()
        if missing.any():
            found = self._from_packed(key)
            if found is not None:
                values = values.where(~missing, found)
        return values

    def _from_packed(self, key: str) -> pd.Series | None:
        quoted = re.escape(key)
        for column, pattern in (
            (_HSTORE_COLUMN, rf'"{quoted}"=>"((?:[^"\\]|\\.)*)"'),
            (_JSON_COLUMN, rf'"{quoted}"\s*:\s*"((?:[^"\\]|\\.)*)"'),
        ):
            if column in self.frame.columns:
                packed = self.frame[column].astype(object).where(self.frame[column].notna(), "")
                raw = packed.astype(str).str.extract(pattern, expand=False)
                unescaped = raw.str.replace(r"\\(.)", r"\1", regex=True)
                return as_text(unescaped.astype(object).where(unescaped.notna(), None))
        return None


def source_ids(frame: pd.DataFrame) -> npt.NDArray[np.object_]:
    """`osm:{type}/{id}` for every feature (None where the file gives no id)."""
    n = len(frame)
    if "osm_type" in frame.columns and "id" in frame.columns:
        kinds = as_text(frame["osm_type"]).to_numpy(dtype=object)
        ids = as_text(frame["id"]).to_numpy(dtype=object)
    else:
        ids = as_text(frame["osm_id"]).to_numpy(dtype=object)
        if "osm_way_id" in frame.columns:
            way = as_text(frame["osm_way_id"]).to_numpy(dtype=object)
            kinds = np.where(pd.notna(ids), "relation", "way").astype(object)
            ids = np.where(pd.notna(ids), ids, way)
        else:
            tid = shapely.get_type_id(frame.geometry.to_numpy())
            kinds = np.select([np.isin(tid, (0, 4)), tid == 1], ["node", "way"], "relation")
            kinds = kinds.astype(object)
    out = np.full(n, None, dtype=object)
    for i, (kind, osm_id) in enumerate(zip(kinds.tolist(), ids.tolist(), strict=True)):
        if kind is not None and osm_id is not None:
            out[i] = f"osm:{kind}/{osm_id}"
    return out


@dataclass(frozen=True)
class Rule:
    """Which features a layer takes, of which geometry, and the fields it gives them."""

    what: str
    geometry: tuple[int, ...]
    split: bool
    pick: Callable[[Tags], npt.NDArray[np.bool_]]
    fields: Callable[[Tags, npt.NDArray[np.object_], Mask, list[str]], dict[str, pd.Series]]


def _is(values: pd.Series, wanted: str) -> npt.NDArray[np.bool_]:
    return values.str.casefold().eq(wanted).fillna(False).to_numpy(dtype=bool)


def _cut(values: pd.Series, n: int) -> pd.Series:
    return values.where(values.isna(), values.str.slice(0, n))


def _floors(levels: pd.Series, keep: Mask, notes: list[str]) -> pd.Series:
    number = pd.to_numeric(levels, errors="coerce").to_numpy(dtype=np.float64)
    ok = np.isfinite(number)
    unreadable = int((keep & levels.notna().to_numpy() & ~ok).sum())
    if unreadable:
        notes.append(f"{unreadable} building:levels values are not numbers: floors left empty")
    floors = np.clip(np.floor(np.where(ok, number, 1) + 0.5), 1, FLOORS_MAX).astype("int64")
    return pd.Series(pd.array(floors, dtype="Int64")).where(pd.Series(ok), pd.NA)


def _building_fields(
    tags: Tags, sids: npt.NDArray[np.object_], keep: Mask, notes: list[str]
) -> dict[str, pd.Series]:
    return {
        "name": tags("name"),
        "floors": _floors(tags("building:levels"), keep, notes),
        "use": _cut(tags("building"), USE_MAX),
    }


def _road_fields(
    tags: Tags, sids: npt.NDArray[np.object_], keep: Mask, notes: list[str]
) -> dict[str, pd.Series]:
    return {"highway": _cut(tags("highway"), HIGHWAY_MAX), "name": tags("name")}


def _derived_code(sid: object) -> str | None:
    if not isinstance(sid, str):
        return None
    kind, _, osm_id = sid.removeprefix("osm:").partition("/")
    return f"osm-{kind[:1]}{osm_id}"


def _village_fields(
    tags: Tags, sids: npt.NDArray[np.object_], keep: Mask, notes: list[str]
) -> dict[str, pd.Series]:
    ref = tags("ref")
    usable = ref.notna() & (ref.str.len() <= CODE_MAX)
    code = ref.where(usable, pd.Series([_derived_code(s) for s in sids], index=ref.index))
    name = tags("name")
    unnamed = int((keep & name.isna().to_numpy()).sum())
    if unnamed:
        notes.append(f"{unnamed} boundaries have no name tag: named by their code")
    return {
        "name": name.where(name.notna(), code),
        "code": code,
        "kind": pd.Series(["village"] * len(ref), index=ref.index, dtype=object),
    }


def _compound_fields(
    tags: Tags, sids: npt.NDArray[np.object_], keep: Mask, notes: list[str]
) -> dict[str, pd.Series]:
    return {"name": tags("name")}


def _has_building(tags: Tags) -> npt.NDArray[np.bool_]:
    building = tags("building")
    return building.notna().to_numpy(dtype=bool) & ~_is(building, "no")


def _municipality(tags: Tags) -> npt.NDArray[np.bool_]:
    return _is(tags("boundary"), "administrative") & _is(tags("admin_level"), "8")


_RULES: dict[Layer, Rule] = {
    Layer.BUILDINGS: Rule("a building tag", POLYGONAL, True, _has_building, _building_fields),
    Layer.ROADS: Rule(
        "a highway tag",
        LINEAR,
        True,
        lambda tags: tags("highway").notna().to_numpy(dtype=bool),
        _road_fields,
    ),
    Layer.VILLAGES: Rule(
        "boundary=administrative and admin_level=8",
        POLYGONAL,
        False,
        _municipality,
        _village_fields,
    ),
    Layer.COMPOUNDS: Rule(
        "landuse=residential",
        POLYGONAL,
        True,
        lambda tags: _is(tags("landuse"), "residential"),
        _compound_fields,
    ),
}


def adapt(layer: Layer, raw: RawLayer) -> RawLayer:
    """The features of `raw` that `layer` takes, with its fields and OSM source ids."""
    rule = _RULES[layer]
    frame = raw.frame.reset_index(drop=True)
    geoms = frame.geometry.to_numpy()
    tags = Tags(frame)
    tagged = rule.pick(tags)
    tid = shapely.get_type_id(geoms)
    shaped = np.isin(tid, rule.geometry) | shapely.is_missing(geoms)
    keep = tagged & shaped
    notes = [
        f"OpenStreetMap extract: {int(keep.sum())} of {len(frame)} features have "
        f"{rule.what} and were read as {layer.value}"
    ]
    other_shape = int((tagged & ~shaped).sum())
    if other_shape:
        notes.append(f"{other_shape} features with {rule.what} of another geometry left out")
    sids = source_ids(frame)
    fields = rule.fields(tags, sids, keep, notes)
    labels = (
        frame[FEATURE_COLUMN].to_numpy()
        if FEATURE_COLUMN in frame.columns
        else np.arange(len(frame), dtype=np.int64)
    )
    data = {FEATURE_COLUMN: labels, "source_id": sids, **fields}
    out = pd.DataFrame({k: pd.Series(v).reset_index(drop=True) for k, v in data.items()})
    out = out[keep].reset_index(drop=True)
    kept_geoms = geoms[keep]
    if rule.split:
        out, kept_geoms = _split(out, kept_geoms, notes, layer)
    import geopandas as gpd

    adapted = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(kept_geoms, crs=frame.crs))
    kept_labels = set(out[FEATURE_COLUMN].tolist())
    errors = [e for e in raw.errors if e.feature is None or e.feature in kept_labels]
    return RawLayer(
        path=raw.path,
        frame=adapted,
        has_geometry=raw.has_geometry,
        row_label=raw.row_label,
        warnings=[*raw.warnings, *notes],
        errors=errors,
    )


def _split(
    out: pd.DataFrame, geoms: npt.NDArray[np.object_], notes: list[str], layer: Layer
) -> tuple[pd.DataFrame, npt.NDArray[np.object_]]:
    """Each multi-part feature as one row per part, `#1`, `#2`, ... after its source id.

    A MultiLineString whose parts join end to end stays one feature (the layer merges it).
    """
    tid = shapely.get_type_id(geoms)
    parts = shapely.get_num_geometries(geoms)
    multi = np.isin(tid, tuple(MULTI)) & (parts > 1)
    lines = np.flatnonzero(multi & (tid == 5))
    if len(lines):
        joined = shapely.get_type_id(shapely.line_merge(geoms[lines])) == 1
        multi[lines[joined]] = False
    if not multi.any():
        return out, geoms
    counts = np.where(multi, parts, 1)
    rows = np.repeat(np.arange(len(out)), counts)
    split_geoms, owner = shapely.get_parts(geoms[multi], return_index=True)
    expanded = out.iloc[rows].reset_index(drop=True)
    new_geoms = np.empty(len(rows), dtype=object)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    single = ~multi
    new_geoms[starts[single]] = geoms[single]
    multi_rows = np.flatnonzero(multi)
    first = starts[multi_rows][owner]
    number = np.arange(len(owner)) - np.searchsorted(owner, owner)
    new_geoms[first + number] = split_geoms
    suffix = np.zeros(len(rows), dtype=np.int64)
    suffix[first + number] = number + 1
    sid = expanded["source_id"].to_numpy(dtype=object)
    marked = (suffix > 0) & pd.notna(sid)
    sid[marked] = [f"{s}#{k}" for s, k in zip(sid[marked], suffix[marked], strict=True)]
    expanded["source_id"] = sid
    notes.append(
        f"{int(multi.sum())} multi-part features split into {len(owner)} {layer.value}, "
        "one per part (source ids #1, #2, ... after the OSM id)"
    )
    return expanded, new_geoms
