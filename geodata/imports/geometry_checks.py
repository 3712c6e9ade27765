"""Vectorised geometry checks of one layer: type, emptiness, coordinates, validity, winding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from geodata.imports.layers import GeometryKind

Geoms = npt.NDArray[np.object_]
Mask = npt.NDArray[np.bool_]

TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)
POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON = 0, 1, 3, 4, 5, 6
METRES_THRESHOLD = 1000.0
"""A coordinate beyond this is no angle in degrees: projected metres."""


@dataclass
class GeometryCheck:
    """Fixed geometries (same order) and, by position, what was refused or repaired."""

    geoms: Geoms
    problems: dict[int, str] = field(default_factory=dict)
    repaired: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def refuse(self, mask: Mask, reason: str | list[str]) -> None:
        """Record `reason` for every position of `mask` not refused already (first reason wins)."""
        positions = np.flatnonzero(mask)
        reasons = [reason] * len(positions) if isinstance(reason, str) else reason
        for pos, why in zip(positions.tolist(), reasons, strict=True):
            self.problems.setdefault(pos, why)

    def ok(self) -> Mask:
        mask = np.ones(len(self.geoms), dtype=bool)
        if self.problems:
            mask[list(self.problems)] = False
        return mask


def check_geometry(
    geoms: Geoms,
    kind: GeometryKind,
    *,
    repair: bool,
    extent: Any | None = None,
    far_is_error: bool = True,
    margin_m: float = 5000.0,
) -> GeometryCheck:
    """Every geometry problem of a layer, found with vectorised shapely calls.

    `extent` is the union of the villages already loaded, grown by `margin_m` (None: no
    villages, no extent check). With `far_is_error` False only a latitude/longitude swap
    is detected against it.
    """
    out = np.asarray(geoms, dtype=object).copy()
    check = GeometryCheck(out)
    missing = shapely.is_missing(out)
    check.refuse(missing, "no geometry")
    check.refuse(~missing & shapely.is_empty(out), "empty geometry")
    extra = check.ok() & (shapely.has_z(out) | shapely.has_m(out))
    if extra.any():
        out[extra] = shapely.force_2d(out[extra])
    _check_type(check, kind)
    _check_coordinates(check)
    _check_validity(check, kind, repair=repair)
    _orient(check, kind)
    if extent is not None:
        _check_extent(check, extent, far_is_error=far_is_error, margin_m=margin_m)
    return check


def _type_name(type_id: int) -> str:
    return TYPE_NAMES[type_id] if 0 <= type_id < len(TYPE_NAMES) else "unknown type"


def _check_type(check: GeometryCheck, kind: GeometryKind) -> None:
    out = check.geoms
    ok = check.ok()
    tid = np.where(ok, shapely.get_type_id(out), -1)
    parts = np.where(ok, shapely.get_num_geometries(out), 0)
    accepted = {
        GeometryKind.POLYGON: (POLYGON,),
        GeometryKind.MULTIPOLYGON: (POLYGON, MULTIPOLYGON),
        GeometryKind.LINESTRING: (LINESTRING,),
        GeometryKind.POINT: (POINT,),
    }[kind]
    single_multi = {
        GeometryKind.POLYGON: MULTIPOLYGON,
        GeometryKind.POINT: MULTIPOINT,
        GeometryKind.LINESTRING: MULTILINESTRING,
    }.get(kind)
    if single_multi is not None:
        one = ok & (tid == single_multi) & (parts == 1)
        out[one] = shapely.get_geometry(out[one], 0)
        tid[one] = accepted[0]
    if kind is GeometryKind.LINESTRING:
        multi = ok & (tid == MULTILINESTRING)
        merged = shapely.line_merge(out[multi])
        joined = shapely.get_type_id(merged) == LINESTRING
        positions = np.flatnonzero(multi)
        out[positions[joined]] = merged[joined]
        tid[positions[joined]] = LINESTRING
        if joined.any():
            check.warnings.append(
                f"{int(joined.sum())} MultiLineStrings joined end to end into one LineString each"
            )
        split = np.zeros(len(out), dtype=bool)
        split[positions[~joined]] = True
        check.refuse(
            split,
            [
                f"MultiLineString of {n} parts that do not join into one line: "
                "give one feature per part"
                for n in parts[split]
            ],
        )
    wrong = ok & ~np.isin(tid, accepted)
    reasons = []
    for type_id, n in zip(tid[wrong].tolist(), parts[wrong].tolist(), strict=True):
        name = _type_name(type_id)
        if type_id == single_multi:
            name = f"{name} of {n} parts"
        reasons.append(f"{name} where {kind.value} is expected")
    check.refuse(wrong, reasons)


def _check_coordinates(check: GeometryCheck) -> None:
    out = check.geoms
    ok = check.ok()
    positions = np.flatnonzero(ok)
    coords, owner = shapely.get_coordinates(out[positions], return_index=True)
    nonfinite = np.zeros(len(out), dtype=bool)
    nonfinite[positions[np.unique(owner[~np.isfinite(coords).all(axis=1)])]] = True
    check.refuse(nonfinite, "coordinates that are not finite numbers (NaN or Infinity)")
    ok = check.ok()
    bounds = np.full((len(out), 4), np.nan)
    bounds[ok] = shapely.bounds(out[ok])
    with np.errstate(invalid="ignore"):
        ax = np.fmax(np.abs(bounds[:, 0]), np.abs(bounds[:, 2]))
        ay = np.fmax(np.abs(bounds[:, 1]), np.abs(bounds[:, 3]))
        metres = ok & ((ax > METRES_THRESHOLD) | (ay > METRES_THRESHOLD))
        swapped = ok & (ay > 90) & (ax <= 90)
        lon = ok & (ax > 180)
        lat = ok & (ay > 90)
    check.refuse(
        metres,
        "coordinates look like projected metres, not degrees: give the file's --crs "
        "(e.g. EPSG:32650)",
    )
    check.refuse(swapped, "latitude outside ±90: latitude and longitude look swapped")
    check.refuse(lon, "longitude outside ±180")
    check.refuse(lat, "latitude outside ±90")


def _polygonal_parts(geoms: Geoms) -> tuple[Geoms, npt.NDArray[np.intp]]:
    """The polygons inside each geometry (through collections), with their owner's position."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    for _ in range(3):  # a collection may hold multi-geometries
        nested = np.isin(shapely.get_type_id(parts), (MULTIPOLYGON, 7))
        if not nested.any():
            break
        inner, inner_owner = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        owner = np.concatenate([owner[~nested], owner[nested][inner_owner]])
    keep = (shapely.get_type_id(parts) == POLYGON) & ~shapely.is_empty(parts)
    return parts[keep], owner[keep]


def _largest_parts(parts: Geoms, owner: npt.NDArray[np.intp], n: int) -> tuple[Geoms, list[str]]:
    """One polygon per owner: the largest part, and a note of how much area the rest held."""
    fixed = np.full(n, None, dtype=object)
    notes = ["made valid"] * n
    if not len(parts):
        return fixed, notes
    areas = shapely.area(parts)
    order = np.lexsort((-areas, owner))
    sorted_owner = owner[order]
    first = order[np.r_[True, sorted_owner[1:] != sorted_owner[:-1]]]
    fixed[owner[first]] = parts[first]
    counts = np.bincount(owner, minlength=n)
    totals = np.bincount(owner, weights=areas, minlength=n)
    for i in first.tolist():
        o = int(owner[i])
        if counts[o] > 1:
            dropped = 1 - areas[i] / totals[o] if totals[o] > 0 else 0.0
            notes[o] = (
                f"made valid; kept the largest of {counts[o]} parts "
                f"({dropped:.0%} of the area dropped)"
            )
    return fixed, notes


def _hint(kind: GeometryKind, reason: str) -> str:
    repairable = kind.polygonal and not reason.startswith("Too few points")
    return " (--repair can fix it)" if repairable else ""


def _check_validity(check: GeometryCheck, kind: GeometryKind, *, repair: bool) -> None:
    out = check.geoms
    ok = check.ok()
    invalid = np.zeros(len(out), dtype=bool)
    invalid[ok] = ~shapely.is_valid(out[ok])
    if not invalid.any():
        return
    positions = np.flatnonzero(invalid)
    reasons = [str(r) for r in shapely.is_valid_reason(out[positions])]
    if not repair or not kind.polygonal:
        check.refuse(invalid, [f"invalid geometry: {r}{_hint(kind, r)}" for r in reasons])
        return
    made = shapely.make_valid(out[positions], method="structure", keep_collapsed=False)
    parts, owner = _polygonal_parts(made)
    if kind is GeometryKind.POLYGON:
        fixed, notes = _largest_parts(parts, owner, len(positions))
    else:
        fixed = np.full(len(positions), None, dtype=object)
        notes = ["made valid"] * len(positions)
        if len(parts):
            shapely.multipolygons(parts, indices=owner, out=fixed)
    failed = shapely.is_missing(fixed) | ~shapely.is_valid(fixed)
    for i, pos in enumerate(positions.tolist()):
        if failed[i]:
            check.problems.setdefault(
                pos, f"invalid geometry: {reasons[i]}; no polygon is left after repair"
            )
        else:
            out[pos] = fixed[i]
            check.repaired[pos] = f"{reasons[i]}: {notes[i]}"


def _orient(check: GeometryCheck, kind: GeometryKind) -> None:
    if not kind.polygonal:
        return
    out = check.geoms
    ok = check.ok()
    # A polygon without holes whose outer ring runs counter-clockwise is left as it is;
    # anything else is oriented, and counted when that changed it.
    simple = ok & (shapely.get_type_id(out) == POLYGON)
    simple[simple] = shapely.get_num_interior_rings(out[simple]) == 0
    fine = simple.copy()
    fine[simple] = _counter_clockwise(out[simple])
    rest = ok & ~fine
    oriented = shapely.orient_polygons(out[rest], exterior_cw=False)
    turned = int((~shapely.equals_exact(out[rest], oriented, tolerance=0.0)).sum())
    out[rest] = oriented
    if turned:
        check.warnings.append(
            f"{turned} polygons had rings wound the other way: re-oriented "
            "(outer rings counter-clockwise, holes clockwise)"
        )
    if kind is GeometryKind.MULTIPOLYGON:
        single = ok & (shapely.get_type_id(out) == POLYGON)
        if single.any():
            out[single] = shapely.multipolygons(out[single].reshape(-1, 1))


def _counter_clockwise(polygons: Geoms) -> Mask:
    """Whether the outer ring of each polygon (without holes) runs counter-clockwise: the sign
    of its shoelace area, from one array of all coordinates (no ring is copied)."""
    coords, owner = shapely.get_coordinates(polygons, return_index=True)
    if not len(coords):
        return np.zeros(len(polygons), dtype=bool)
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    origin = coords[first][np.searchsorted(first, np.arange(len(coords)), side="right") - 1]
    x, y = (coords - origin).T
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    same = owner[:-1] == owner[1:]
    area2 = np.bincount(owner[:-1][same], weights=cross[same], minlength=len(polygons))
    return np.asarray(area2 > 0, dtype=bool)


def _swap_xy(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return coords[:, ::-1]


def _check_extent(
    check: GeometryCheck, extent: Any, *, far_is_error: bool, margin_m: float
) -> None:
    out = check.geoms
    ok = check.ok()
    shapely.prepare(extent)
    far = np.zeros(len(out), dtype=bool)
    far[ok] = ~shapely.intersects(extent, out[ok])
    if not far.any():
        return
    positions = np.flatnonzero(far)
    swapped = shapely.transform(out[positions], _swap_xy)
    lands = shapely.intersects(extent, swapped)
    swap_mask = np.zeros(len(out), dtype=bool)
    swap_mask[positions[lands]] = True
    check.refuse(
        swap_mask,
        "latitude and longitude look swapped: swapped, it lies among the villages loaded",
    )
    if far_is_error:
        check.refuse(
            far & ~swap_mask,
            f"more than {margin_m / 1000:g} km outside the villages already loaded",
        )
