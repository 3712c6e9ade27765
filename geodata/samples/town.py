"""The sample town: Liechtenstein's 11 municipalities as villages, built from the bundled extract.

Choices, all deterministic from the seed (``numpy.random.default_rng(seed)``) and dated
relative to ``today``:

- Villages: the admin_level 8 boundaries inside the admin_level 2 one (Fläsch, Swiss, is
  left out), as multipolygons (Vaduz has 7 parts). Code ``9900`` + municipality number
  (7001-7011), e.g. ``99007001``: region 99 does not exist, so the codes are visibly
  synthetic. Vaduz is a ``community``, the others ``village``; population = the synthetic
  residents. The stored outline carries, on its boundary, the vertices where grid edges
  meet it (same shape).
- Buildings: every OSM building whose point on surface lies in a village (4 of the 3,723
  stand just across the border in Switzerland or Austria and are left out). Floors from
  ``building:levels`` else by type (see ``osm_extract.building_floors``); ``use`` is the
  ``building`` tag; compound and grid from the point on surface.
- Households: residential-looking buildings only (house/residential/apartments/yes, no
  amenity, no name, not in industrial/commercial/farmyard/quarry/cemetery/construction
  landuse, 40 m² or more, a ``yes`` building at most 1,500 m²): round(footprint m² in
  EPSG:2056 × floors ÷ 90 m² × U(0.85, 1.15)), at least 1, a house at most 2. Unit and room
  from the position in the building (two flats a floor per stairwell: rooms 101, 102...).
  Members 1-6; ``home_quarantine`` when a returnee of the household is still in quarantine.
- Compounds: residential buildings buffered by 6 m and unioned; each connected part (holes
  filled, parts nested in another dropped) holding at least 4 residential buildings and at
  most 250 households becomes a compound, clipped to its village (largest part kept).
  Inside residential landuse it is a ``residential_compound``, else a ``building_yard``;
  85% ``sealed_managed``. Named after the nearest named road.
- Grids: per village, units (a compound, or a building outside compounds) weighted by
  households are cut recursively across the longer axis until each part holds at most 300
  households (a part of k×300 becomes ⌊k/2⌋ + ⌈k/2⌉ parts, the cut placed so that both
  sides can still make parts of 150-300); the cuts are tried turned by 0°-165° and the turn
  with the fewest parts outside 150-300 is kept. The Voronoi cells of the building points,
  dissolved per part, are noded with the village boundary and the compound rings into faces;
  a face goes to its compound's part, else to its Voronoi part. So each compound lies whole
  in one grid, forest and mountain land joins the nearest grid, and grids share their edges
  vertex for vertex: no gap or overlap in any CRS. Detached crumbs under 500 m² holding no
  building join the neighbour they share most edge with. Code = village code + 2 digits.
- Entrances: where roads cross a compound's outer ring (one per 20 m cell), else the point
  of the ring nearest to the nearest road; where primary to residential roads cross a
  village boundary (one per 50 m cell). A compound keeps the entrance on its best road open
  and the rest sealed; a village's entrances are sealed except those with a checkpoint.
  Deliberate faults for the checks: 2 compounds with two open entrances, 2 with none open,
  1 sealed compound entrance 30 m outside its compound.
- Checkpoints: 2-4 per village at the village entrances on the best roads (one per road name);
  on a primary road half are ``road`` checkpoints, the rest ``village_gate``. Shifts
  00-08, 08-16, 16-24 (Asia/Shanghai) for today and the 6 days before; one in eight
  understaffed by one.
- Teams and staff: per village a checkpoint team (3 × staff per shift for each of its
  checkpoints) and day and night patrol teams (4-6 each); per grid a leader and 2 workers.
- Patrol zones: per village the day zone is the whole village, the night zone the land
  within 100 m of its buildings.
- Isolation site: 120 beds and 10 reserve rooms at the centroid of the largest school.
- Visits over the 14 days before today: each household screened once (a third twice) on a
  working day of its grid (grids rest on about one day in eight), about 3% never visited;
  households of returnees visited twice a day (about 09:00 and 16:00) during quarantine,
  one visit in twenty missed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, bindparam, text

from geodata.bulk import copy_frame
from geodata.samples.osm_extract import METRIC_CRS, WGS84, OsmExtract, read_extract, source_ids
from geodata.samples.osm_extract import building_floors as osm_building_floors
from geodata.samples.people import chinese_names, synthetic_phones, synthetic_residents

Geoms = npt.NDArray[np.object_]
Ints = npt.NDArray[np.int64]

SAMPLE_USER = "sample"
TIMEZONE = ZoneInfo("Asia/Shanghai")
CODE_PREFIX = "9900"
FLAT_M2 = 90.0
GRID_MAX_HOUSEHOLDS = 300
COMPOUND_BUFFER_M = 6.0
COMPOUND_MIN_BUILDINGS = 4
COMPOUND_MAX_HOUSEHOLDS = 250
VISIT_DAYS = 14
SHIFT_DAYS = 7
ISOLATION_BEDS = 120
ISOLATION_RESERVE_ROOMS = 10

RESIDENTIAL_BUILDINGS = ("house", "residential", "apartments", "yes", "detached", "terrace")
NON_RESIDENTIAL_LANDUSE = (
    "industrial",
    "commercial",
    "farmyard",
    "quarry",
    "cemetery",
    "construction",
)
VILLAGE_ROAD_CLASSES = ("primary", "secondary", "tertiary", "unclassified", "residential")
HIGHWAY_LABELS = {
    "primary": "主干道",
    "secondary": "次干道",
    "tertiary": "支路",
    "unclassified": "乡道",
    "residential": "居民区道路",
    "living_street": "生活街道",
    "service": "内部道路",
    "track": "机耕道",
    "footway": "人行道",
    "path": "小路",
    "cycleway": "自行车道",
    "steps": "台阶",
}
ROAD_RANK = {
    "primary": 0,
    "secondary": 1,
    "tertiary": 2,
    "unclassified": 3,
    "residential": 4,
    "living_street": 5,
    "service": 6,
}


@dataclass(frozen=True)
class TownPlan:
    """Every row of the sample town; foreign keys are positions in the referenced frame."""

    villages: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    households: pd.DataFrame
    residents: pd.DataFrame
    entrances: gpd.GeoDataFrame
    checkpoints: gpd.GeoDataFrame
    shifts: pd.DataFrame
    teams: pd.DataFrame
    staff: pd.DataFrame
    patrol_zones: gpd.GeoDataFrame
    isolation_sites: gpd.GeoDataFrame
    visits: pd.DataFrame


def load_sample(conn: Connection, *, seed: int = 2020, today: date | None = None) -> dict[str, int]:
    """Load the sample town in the caller's transaction; rows inserted per table.

    Idempotent: when villages from OpenStreetMap are already there, returns ``{}``.
    """
    loaded = conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM villages WHERE source_id LIKE 'osm:%')")
    ).scalar_one()
    if loaded:
        return {}
    plan = build_plan(read_extract(), seed=seed, today=today or date.today())
    return write_plan(conn, plan)


def build_plan(extract: OsmExtract, *, seed: int, today: date) -> TownPlan:
    """The whole town in memory, from the extract, the seed and the date."""
    streams = np.random.default_rng(seed).spawn(7)
    villages = plan_villages(extract.municipalities)
    buildings = plan_buildings(streams[0], extract, villages)
    roads = plan_roads(extract.roads)
    compounds = plan_compounds(streams[1], buildings, villages, extract.landuse, roads)
    buildings["compound"] = locate(buildings.geometry.representative_point(), compounds.geometry)
    grids, outlines = plan_grids(villages, buildings, compounds)
    villages = villages.set_geometry(gpd.GeoSeries(outlines, crs=WGS84))
    buildings["grid"] = locate(buildings.geometry.representative_point(), grids.geometry)
    households = household_rows(streams[2], buildings)
    residents = synthetic_residents(streams[2], households["members"], today=today)
    residents["grid"] = households["grid"].to_numpy()[residents["household"].to_numpy()]
    in_quarantine = residents["returnee"] & (residents["quarantine_until"] >= today)
    quarantined = np.bincount(residents["household"][in_quarantine], minlength=len(households))
    households["status"] = np.where(quarantined > 0, "home_quarantine", "normal")
    villages["population"] = np.bincount(
        grids["village"].to_numpy()[residents["grid"].to_numpy()], minlength=len(villages)
    )
    entrances = plan_entrances(streams[3], villages, compounds, roads, today=today)
    checkpoints = plan_checkpoints(streams[3], villages, entrances, roads)
    teams = plan_teams(villages)
    staff = plan_staff(streams[4], villages, grids, teams, checkpoints)
    grids["leader"] = staff.index[staff["role"] == "grid_leader"].to_numpy()
    return TownPlan(
        villages=villages,
        grids=grids,
        compounds=compounds,
        buildings=buildings,
        roads=roads,
        households=households,
        residents=residents,
        entrances=entrances,
        checkpoints=checkpoints,
        shifts=plan_shifts(streams[5], checkpoints, today=today),
        teams=teams,
        staff=staff,
        patrol_zones=plan_patrol_zones(villages, buildings, teams),
        isolation_sites=plan_isolation_site(buildings, villages),
        visits=plan_visits(streams[6], households, residents, staff, today=today),
    )


# -- geometry helpers ----------------------------------------------------------------------
@functools.cache
def _transformer(source: str, target: str) -> Any:
    return Transformer.from_crs(source, target, always_xy=True)


def reproject(geoms: Any, source: str, target: str) -> Geoms:
    """Geometries moved between CRSs vertex by vertex (shared vertices stay shared)."""
    transformer = _transformer(source, target)

    def move(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), move), dtype=object)


def to_metric(geoms: Any) -> Geoms:
    return reproject(geoms, WGS84, METRIC_CRS)


def to_wgs84(geoms: Any) -> Geoms:
    return reproject(geoms, METRIC_CRS, WGS84)


def single_parts(geoms: Any) -> tuple[Geoms, Ints]:
    """The points, lines and polygons in the geometries, collections opened at any depth,
    with the position of the geometry each comes from."""
    parts, index = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    while (collection := shapely.get_type_id(parts) >= 4).any():
        inner, inner_index = shapely.get_parts(parts[collection], return_index=True)
        parts = np.concatenate([parts[~collection], inner])
        index = np.concatenate([index[~collection], index[collection][inner_index]])
    return np.asarray(parts, dtype=object), np.asarray(index, dtype=np.int64)


def polygonal(geoms: Any) -> Geoms:
    """Valid multipolygons keeping only the polygonal parts of each geometry."""
    valid = shapely.make_valid(np.asarray(geoms, dtype=object))
    parts, index = single_parts(valid)
    keep = shapely.get_type_id(parts) == 3
    parts, index = parts[keep], index[keep]
    order = np.argsort(index, kind="stable")
    out = np.array([shapely.MultiPolygon() for _ in range(len(valid))], dtype=object)
    if len(parts):
        shapely.multipolygons(parts[order], indices=index[order], out=out)
    return out


def largest_polygon(geoms: Any) -> Geoms:
    """The largest polygon part of each geometry."""
    parts, index = shapely.get_parts(shapely.make_valid(np.asarray(geoms)), return_index=True)
    polygons = shapely.get_type_id(parts) == 3
    parts, index = parts[polygons], index[polygons]
    order = np.lexsort((-shapely.area(parts), index))
    return np.asarray(parts[order[first_per_group(index[order])]], dtype=object)


def locate(points: Any, areas: Any) -> Ints:
    """Position of the first area each point intersects, -1 for none."""
    pts = np.asarray(points, dtype=object)
    found = np.full(len(pts), -1, dtype=np.int64)
    if len(areas) == 0:
        return found
    point_idx, area_idx = shapely.STRtree(np.asarray(areas, dtype=object)).query(
        pts, predicate="intersects"
    )
    first = first_per_group(point_idx)
    found[point_idx[first]] = area_idx[first]
    return found


def first_per_group(keys: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True at the first row of each run of equal keys (keys sorted)."""
    k = np.asarray(keys)
    return np.r_[True, k[1:] != k[:-1]] if k.size else np.zeros(0, dtype=bool)


def serial_ids(prefix: str, n: int) -> list[str]:
    """``<prefix>1`` ... ``<prefix>n``."""
    return [str(s) for s in np.char.add(prefix, np.arange(1, n + 1).astype(str))]


# -- villages, buildings, roads -----------------------------------------------------------
def plan_villages(municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    numbers = municipalities["municipality_number"].to_numpy(dtype=np.int64)
    return gpd.GeoDataFrame(
        {
            "code": [f"{CODE_PREFIX}{n}" for n in numbers],
            "name": municipalities["name"].to_numpy(dtype=object),
            "kind": np.where(numbers == 7001, "community", "village"),
            "source_id": source_ids(municipalities["osm_type"], municipalities["osm_id"]),
        },
        geometry=municipalities.geometry.to_numpy(),
        crs=WGS84,
    )


def households_per_building(
    rng: np.random.Generator,
    area_m2: npt.ArrayLike,
    floors: npt.ArrayLike,
    residential: npt.ArrayLike,
    *,
    single_family: npt.ArrayLike = False,
) -> Ints:
    """round(area × floors ÷ 90 m² × U(0.85, 1.15)), at least 1, at most 2 for a house."""
    area = np.asarray(area_m2, dtype=float)
    jitter = rng.uniform(0.85, 1.15, size=area.size)
    count = np.maximum(1, np.rint(area * np.asarray(floors) / FLAT_M2 * jitter)).astype(np.int64)
    count = np.where(np.asarray(single_family, dtype=bool), np.minimum(count, 2), count)
    return np.where(np.asarray(residential, dtype=bool), count, 0).astype(np.int64)


def plan_buildings(
    rng: np.random.Generator, extract: OsmExtract, villages: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Buildings inside a village, with floors, use, area and households."""
    raw = extract.buildings
    village = locate(raw.geometry.representative_point(), villages.geometry)
    raw = raw[village >= 0].reset_index(drop=True)
    village = village[village >= 0]
    geom_m = to_metric(raw.geometry.to_numpy())
    area = shapely.area(geom_m)
    kind = raw["building"].fillna("yes").astype(str).to_numpy()
    landuse = extract.landuse[extract.landuse["landuse"].isin(NON_RESIDENTIAL_LANDUSE)]
    in_works = locate(raw.geometry.representative_point(), landuse.geometry) >= 0
    residential = (
        np.isin(kind, RESIDENTIAL_BUILDINGS)
        & raw["amenity"].isna().to_numpy()
        & raw["name"].isna().to_numpy()
        & ~in_works
        & (area >= 40)
        & ((kind != "yes") | (area <= 1500))
    )
    floors = osm_building_floors(rng, raw["building"], raw["levels"])
    households = households_per_building(
        rng, area, floors, residential, single_family=kind == "house"
    )
    return gpd.GeoDataFrame(
        {
            "source_id": source_ids(raw["osm_type"], raw["osm_id"]),
            "name": raw["name"].to_numpy(dtype=object),
            "floors": floors,
            "use": kind,
            "amenity": raw["amenity"].to_numpy(dtype=object),
            "village": village,
            "area_m2": area,
            "households": households,
            "geom_m": geom_m,
        },
        geometry=raw.geometry.to_numpy(),
        crs=WGS84,
    )


def plan_roads(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every road segment (multi-part ways exploded: ``#<part>`` after the id)."""
    ids = np.array(source_ids(roads["osm_type"], roads["osm_id"]), dtype=str)
    multi = roads.duplicated(["osm_type", "osm_id"], keep=False).to_numpy()
    part = np.char.add("#", roads["part"].to_numpy().astype(str))
    sid = np.where(multi, np.char.add(ids, part), ids).tolist()
    highway = roads["highway"].fillna("road").astype(str).to_numpy()
    name = roads["name"].to_numpy(dtype=object)
    label = np.where(roads["name"].notna(), name, roads["ref"].fillna("").astype(str))
    kind = pd.Series(highway).map(HIGHWAY_LABELS).fillna(pd.Series(highway)).to_numpy()
    return gpd.GeoDataFrame(
        {
            "source_id": sid,
            "highway": highway,
            "name": name,
            "label": np.where(label == "", kind, label),
            "rank": pd.Series(highway).map(ROAD_RANK).fillna(9).to_numpy(dtype=np.int64),
        },
        geometry=roads.geometry.to_numpy(),
        crs=WGS84,
    )


# -- compounds ----------------------------------------------------------------------------
def plan_compounds(
    rng: np.random.Generator,
    buildings: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Compounds from clusters of residential buildings (see the module docstring)."""
    residential = buildings["households"].to_numpy() > 0
    geom_m = buildings["geom_m"].to_numpy()
    blob = shapely.union_all(shapely.buffer(geom_m[residential], COMPOUND_BUFFER_M, quad_segs=2))
    parts = shapely.get_parts(blob)
    filled = np.asarray(shapely.polygons(shapely.get_exterior_ring(parts)), dtype=object)
    inner, outer = shapely.STRtree(filled).query(
        shapely.point_on_surface(parts), predicate="within"
    )
    nested = np.zeros(len(parts), dtype=bool)
    nested[inner[inner != outer]] = True
    filled = filled[~nested]
    member = locate(shapely.point_on_surface(geom_m), filled)
    has = member >= 0
    n_res = np.bincount(member[has], weights=residential[has], minlength=len(filled))
    n_hh = np.bincount(
        member[has], weights=buildings["households"].to_numpy()[has], minlength=len(filled)
    )
    keep = (n_res >= COMPOUND_MIN_BUILDINGS) & (n_hh <= COMPOUND_MAX_HOUSEHOLDS)
    shapes = to_wgs84(filled[keep])
    village = locate(shapely.point_on_surface(shapes), villages.geometry)
    shapes, village = shapes[village >= 0], village[village >= 0]
    shapes = largest_polygon(shapely.intersection(shapes, villages.geometry.to_numpy()[village]))
    # north to south, then west to east: a stable reading order for numbering
    order = np.lexsort(
        (shapely.get_x(shapely.centroid(shapes)), -shapely.get_y(shapely.centroid(shapes)))
    )
    shapes, village = shapes[order], village[order]
    rep = shapely.point_on_surface(shapes)
    residential_land = landuse[landuse["landuse"] == "residential"]
    in_housing = locate(rep, residential_land.geometry) >= 0
    return gpd.GeoDataFrame(
        {
            "source_id": serial_ids("sample:compound/", len(shapes)),
            "name": compound_names(shapes, village, villages, roads),
            "kind": np.where(in_housing, "residential_compound", "building_yard"),
            "closure": np.where(rng.random(len(shapes)) < 0.85, "sealed_managed", "open"),
            "village": village,
        },
        geometry=shapes,
        crs=WGS84,
    )


def compound_names(
    shapes: Geoms, village: Ints, villages: gpd.GeoDataFrame, roads: gpd.GeoDataFrame
) -> list[str]:
    """``<nearest named road within 300 m, else the village> <n>号院``, numbered per prefix."""
    named = roads[roads["name"].notna()]
    centres = to_metric(shapely.centroid(shapes))
    tree = shapely.STRtree(to_metric(named.geometry.to_numpy()))
    (src, hit), dist = tree.query_nearest(centres, return_distance=True, all_matches=False)
    prefix = villages["name"].to_numpy(dtype=object)[village]
    near = src[dist <= 300]
    prefix[near] = named["name"].to_numpy(dtype=object)[hit[dist <= 300]]
    number = pd.Series(prefix).groupby(prefix).cumcount().to_numpy() + 1
    return [f"{p} {n}号院" for p, n in zip(prefix, number, strict=True)]


# -- grids --------------------------------------------------------------------------------
def weighted_bisection(
    xy: npt.ArrayLike, weights: npt.ArrayLike, *, cap: float = GRID_MAX_HOUSEHOLDS
) -> Ints:
    """Group label of each point: recursive straight cuts until each group weighs <= cap.

    A group of weight W > cap is to become k = ⌈W / cap⌉ groups, so ⌊k/2⌋ go to one side
    of the cut and the rest to the other. The cut runs across the longer axis of the
    points (else across the other one) at the position where both sides can still be
    divided into groups of cap/2 to cap, nearest to the proportional share; when no such
    position exists, at the proportional share. Labels are numbered depth first, so
    neighbouring groups get near numbers.
    """
    points = np.asarray(xy, dtype=float).reshape(-1, 2)
    w = np.asarray(weights, dtype=float)
    labels = np.zeros(len(w), dtype=np.int64)
    stack = [np.arange(len(w))]
    group = 0
    while stack:
        idx = stack.pop()
        total = w[idx].sum()
        if total <= cap or len(idx) < 2:
            labels[idx] = group
            group += 1
            continue
        k = int(np.ceil(total / cap))
        left_k, right_k = k // 2, k - k // 2
        target = total * left_k / k
        low = max(total - cap * right_k, cap / 2 * left_k)
        high = min(cap * left_k, total - cap / 2 * right_k)
        span = points[idx].max(axis=0) - points[idx].min(axis=0)
        best: tuple[float, npt.NDArray[np.int64], int] | None = None
        for axis in np.argsort(-span, kind="stable"):
            ordered = idx[np.argsort(points[idx, axis], kind="stable")]
            left = np.cumsum(w[ordered])[:-1]
            miss = np.abs(left - target) + np.where((left >= low) & (left <= high), 0, total)
            cut = int(np.argmin(miss))
            if best is None or miss[cut] < best[0] - total / 2:
                best = (float(miss[cut]), ordered, cut + 1)
        assert best is not None
        _, ordered, cut = best
        stack.extend([ordered[cut:], ordered[:cut]])
    return labels


def balanced_groups(
    xy: npt.ArrayLike, weights: npt.ArrayLike, *, cap: float = GRID_MAX_HOUSEHOLDS
) -> Ints:
    """``weighted_bisection`` with the cuts turned by 0°, 15°, ... 165°: the turn giving the
    fewest groups outside cap/2 to cap (then the smallest worst deviation from 3/4 cap)."""
    points = np.asarray(xy, dtype=float).reshape(-1, 2)
    points = points - points.mean(axis=0) if len(points) else points
    w = np.asarray(weights, dtype=float)
    best: tuple[tuple[int, float], Ints] | None = None
    for angle in np.radians(np.arange(0, 180, 15)):
        turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        labels = weighted_bisection(points @ turn, w, cap=cap)
        sums = np.bincount(labels, weights=w)
        score = (
            int(((sums < cap / 2) | (sums > cap)).sum()),
            float(np.abs(sums - 0.75 * cap).max()),
        )
        if best is None or score < best[0]:
            best = (score, labels)
    assert best is not None
    return best[1]


def plan_grids(
    villages: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, Geoms]:
    """Grids partitioning every village (see the module docstring), and village outlines
    noded with the grids' edges."""
    rows: list[pd.DataFrame] = []
    outlines = np.empty(len(villages), dtype=object)
    points_m = shapely.point_on_surface(buildings["geom_m"].to_numpy())
    for v, village in enumerate(villages.itertuples()):
        in_village = np.flatnonzero(buildings["village"].to_numpy() == v)
        member = buildings["compound"].to_numpy()[in_village]
        unit = np.where(member >= 0, member, len(compounds) + in_village)
        units = pd.DataFrame(
            {
                "unit": unit,
                "x": shapely.get_x(points_m[in_village]),
                "y": shapely.get_y(points_m[in_village]),
                "w": buildings["households"].to_numpy()[in_village],
            }
        ).groupby("unit", sort=True)
        summary = units.agg(x=("x", "mean"), y=("y", "mean"), w=("w", "sum"))
        unit_label = balanced_groups(summary[["x", "y"]].to_numpy(), summary["w"].to_numpy())
        label = pd.Series(unit_label, index=summary.index)[unit].to_numpy()
        own = np.flatnonzero(compounds["village"].to_numpy() == v)
        own_label = pd.Series(unit_label, index=summary.index).reindex(own).to_numpy()
        shapes, outlines[v] = village_partition(
            village.geometry,
            points_m[in_village],
            label,
            compounds.geometry.to_numpy()[own],
            own_label,
        )
        rows.append(
            pd.DataFrame(
                {
                    "village": v,
                    "code": [f"{village.code}{i + 1:02d}" for i in range(len(shapes))],
                    "name": [f"{village.name}第{i + 1:02d}网格" for i in range(len(shapes))],
                    "geometry": shapes,
                }
            )
        )
    grids = gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry", crs=WGS84)
    grids["source_id"] = "sample:grid/" + grids["code"]
    return grids, outlines


def village_partition(
    village: Any, points_m: Geoms, label: Ints, compounds: Geoms, compound_label: Any
) -> tuple[Geoms, Any]:
    """Multipolygons, one per label, covering the village without gap or overlap, and the
    village outline with the same vertices as the grids' outer edges.

    The village boundary, the boundaries of the labels' Voronoi regions and the compound
    rings are noded together and polygonised into faces; each face inside the village goes
    to its compound's label, else to its region's. Grids and outline are unions of faces,
    so they share their edges vertex for vertex: the partition is exact in any CRS and on
    the sphere, not only in planar longitude and latitude.
    """
    n = int(label.max()) + 1 if label.size else 1
    if n == 1:
        whole = polygonal([village])
        return whole, whole[0]
    coords = shapely.get_coordinates(points_m)
    _, first = np.unique(coords, axis=0, return_index=True)
    first = np.sort(first)
    xmin, ymin, xmax, ymax = shapely.bounds(to_metric([village])[0])
    frame = shapely.box(xmin - 2000, ymin - 2000, xmax + 2000, ymax + 2000)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(points_m[first]), extend_to=frame, ordered=True
        )
    )
    regions_m = np.array(
        [shapely.union_all(cells[label[first] == g]) for g in range(n)], dtype=object
    )
    regions = to_wgs84(regions_m)
    lines = np.concatenate(
        [[shapely.boundary(village)], shapely.boundary(regions), shapely.boundary(compounds)]
    )
    noded = shapely.get_parts(shapely.union_all(lines))
    faces = shapely.get_parts(shapely.polygonize(noded))
    probe = shapely.point_on_surface(faces)
    inside = shapely.intersects(probe, village)
    faces, probe = faces[inside], probe[inside]
    in_compound = locate(probe, compounds)
    region = locate(probe, regions)
    face_label = np.where(
        in_compound >= 0, np.asarray(compound_label)[np.maximum(in_compound, 0)], region
    )
    shapes = polygonal([shapely.coverage_union_all(faces[face_label == g]) for g in range(n)])
    shapes = absorb_crumbs(shapes, to_wgs84(points_m))
    return shapes, polygonal([shapely.coverage_union_all(faces)])[0]


def absorb_crumbs(shapes: Geoms, points: Geoms, *, max_area_m2: float = 500.0) -> Geoms:
    """Detached parts smaller than ``max_area_m2`` holding none of ``points`` join the
    neighbouring shape they share the longest edge with (shared edges stay exact)."""
    parts, owner = shapely.get_parts(shapes, return_index=True)
    area = shapely.area(to_metric(parts))
    largest = pd.Series(area).groupby(owner).transform("max").to_numpy()
    empty = np.bincount(locate(points, parts) + 1, minlength=len(parts) + 1)[1:] == 0
    crumbs = np.flatnonzero((area < max_area_m2) & (area < largest) & empty)
    if crumbs.size == 0:
        return shapes
    moved_to = owner.copy()
    for crumb in crumbs:
        shared = shapely.length(
            shapely.intersection(shapely.boundary(parts[crumb]), shapely.boundary(shapes))
        )
        shared[owner[crumb]] = 0.0
        if shared.max() > 0:
            moved_to[crumb] = int(np.argmax(shared))
    return polygonal([shapely.coverage_union_all(parts[moved_to == g]) for g in range(len(shapes))])


# -- households -----------------------------------------------------------------------------
def household_rows(rng: np.random.Generator, buildings: pd.DataFrame) -> pd.DataFrame:
    """One row per household of every building (``households`` per building), with members.

    Flats are numbered floor by floor, two a floor per stairwell (unit): rooms 101, 102...
    """
    count = buildings["households"].to_numpy(dtype=np.int64)
    building = np.repeat(np.arange(len(count)), count)
    position = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    floors = buildings["floors"].to_numpy(dtype=np.int64)
    per_floor = np.ceil(count / np.maximum(floors, 1)).astype(np.int64)[building]
    storey = position // per_floor + 1
    flat = position % per_floor
    members = rng.choice(np.arange(1, 7), size=building.size, p=[0.22, 0.3, 0.22, 0.15, 0.08, 0.03])
    return pd.DataFrame(
        {
            "source_id": serial_ids("sample:household/", building.size),
            "building": building,
            "grid": buildings["grid"].to_numpy()[building],
            "unit": (flat // 2 + 1).astype(str),
            "room": (storey * 100 + flat % 2 + 1).astype(str),
            "members": members,
        }
    )


# -- entrances and checkpoints --------------------------------------------------------------
def crossings(lines: Geoms, roads: gpd.GeoDataFrame) -> pd.DataFrame:
    """Points where roads cross the given lines: ``owner`` (line position), ``road``, point."""
    road_geoms = roads.geometry.to_numpy()
    owner, road = shapely.STRtree(road_geoms).query(lines, predicate="intersects")
    parts, which = single_parts(shapely.intersection(lines[owner], road_geoms[road]))
    points = shapely.get_type_id(parts) == 0
    return pd.DataFrame(
        {"owner": owner[which[points]], "road": road[which[points]], "geometry": parts[points]}
    )


def one_per_cell(found: pd.DataFrame, roads: gpd.GeoDataFrame, cell_m: float) -> pd.DataFrame:
    """Keep one crossing per owner and square cell of ``cell_m``, the one on the best road."""
    xy = shapely.get_coordinates(to_metric(found["geometry"].to_numpy()))
    found = found.assign(
        rank=roads["rank"].to_numpy()[found["road"].to_numpy()],
        cx=np.floor(xy[:, 0] / cell_m).astype(np.int64),
        cy=np.floor(xy[:, 1] / cell_m).astype(np.int64),
    )
    found = found.sort_values(["owner", "rank", "road", "cx", "cy"], kind="stable")
    return found.drop_duplicates(["owner", "cx", "cy"]).reset_index(drop=True)


def direction_labels(points: Geoms, centres: Geoms) -> npt.NDArray[np.str_]:
    """东, 北, 西 or 南: where each point lies seen from its centre."""
    p = shapely.get_coordinates(to_metric(points))
    c = shapely.get_coordinates(to_metric(centres))
    angle = np.degrees(np.arctan2(p[:, 1] - c[:, 1], p[:, 0] - c[:, 0]))
    sector = np.floor(((angle + 45) % 360) / 90).astype(np.int64)
    return np.array(list("东北西南"))[sector]


def compound_entrances(compounds: gpd.GeoDataFrame, roads: gpd.GeoDataFrame) -> pd.DataFrame:
    """Entrances on every compound's outer ring; one at least, towards the nearest road."""
    rings = shapely.get_exterior_ring(compounds.geometry.to_numpy())
    found = one_per_cell(crossings(rings, roads), roads, 20.0)
    missing = np.setdiff1d(np.arange(len(compounds)), found["owner"].to_numpy())
    road_geoms = roads.geometry.to_numpy()
    src, hit = shapely.STRtree(to_metric(road_geoms)).query_nearest(
        to_metric(rings[missing]), all_matches=False
    )
    nearest = shapely.get_point(shapely.shortest_line(rings[missing][src], road_geoms[hit]), 0)
    extra = pd.DataFrame(
        {
            "owner": missing[src],
            "road": hit,
            "geometry": nearest,
            "rank": roads["rank"].to_numpy()[hit],
        }
    )
    return pd.concat([found, extra], ignore_index=True).sort_values(
        ["owner", "rank"], kind="stable", ignore_index=True
    )[["owner", "road", "rank", "geometry"]]


def moved_outwards(point: Any, area: Any, distance_m: float) -> Any:
    """The point at ``distance_m`` outside ``area`` nearest to ``point``."""
    point_m, area_m = to_metric([point, area])
    ring = shapely.get_exterior_ring(shapely.buffer(area_m, distance_m, quad_segs=16))
    moved = shapely.line_interpolate_point(ring, shapely.line_locate_point(ring, point_m))
    return to_wgs84([moved])[0]


def plan_entrances(
    rng: np.random.Generator,
    villages: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    *,
    today: date,
) -> gpd.GeoDataFrame:
    """Compound and village entrances with their states, faults included (module docstring)."""
    comp = compound_entrances(compounds, roads)
    comp["position"] = comp.groupby("owner").cumcount()
    state = np.where(comp["position"] == 0, "open", "sealed").astype(object)
    sizes = comp.groupby("owner").size()
    several = rng.permutation(sizes.index[sizes >= 2].to_numpy())
    two_open, off_compound = several[:2], several[2]
    others = np.setdiff1d(np.arange(len(compounds)), several[:3])
    none_open = rng.choice(others, size=2, replace=False)
    owner = comp["owner"].to_numpy()
    state[np.isin(owner, two_open) & (comp["position"] == 1).to_numpy()] = "open"
    state[np.isin(owner, none_open)] = "sealed"
    off = int(np.flatnonzero(owner == off_compound)[-1])
    geoms = comp["geometry"].to_numpy().copy()
    geoms[off] = moved_outwards(geoms[off], compounds.geometry.iloc[off_compound], 30.0)
    comp_names = np.char.add(
        np.char.add(
            compounds["name"].to_numpy(dtype=str)[owner],
            direction_labels(geoms, shapely.centroid(compounds.geometry.to_numpy()[owner])),
        ),
        "门",
    )

    main_roads = np.flatnonzero(roads["highway"].isin(VILLAGE_ROAD_CLASSES).to_numpy())
    village_roads = roads.iloc[main_roads].reset_index(drop=True)
    boundaries = shapely.boundary(villages.geometry.to_numpy())
    vill = one_per_cell(crossings(boundaries, village_roads), village_roads, 50.0)
    vill["road"] = main_roads[vill["road"].to_numpy()]
    vill["label"] = roads["label"].to_numpy()[vill["road"].to_numpy()]
    vill_owner = vill["owner"].to_numpy()
    guarded = checkpoint_entrances(rng, vill, len(villages))
    vill_names = [
        f"{v}{d}入口（{r}）"
        for v, d, r in zip(
            villages["name"].to_numpy()[vill_owner],
            direction_labels(
                vill["geometry"].to_numpy(),
                shapely.centroid(villages.geometry.to_numpy()[vill_owner]),
            ),
            roads["label"].to_numpy()[vill["road"].to_numpy()],
            strict=True,
        )
    ]
    n_comp, n_vill = len(comp), len(vill)
    since_days = rng.integers(7, 21, size=n_comp + n_vill)
    since_minutes = rng.integers(0, 240, size=n_comp + n_vill)
    since = pd.to_datetime(np.datetime64(today) - since_days.astype("timedelta64[D]"))
    since = (since + pd.to_timedelta(8 * 60 + since_minutes, unit="min")).tz_localize(TIMEZONE)
    return gpd.GeoDataFrame(
        {
            "source_id": serial_ids("sample:entrance/", n_comp + n_vill),
            "name": [*comp_names.tolist(), *vill_names],
            "compound": np.r_[owner, np.full(n_vill, -1)],
            "village": np.r_[np.full(n_comp, -1), vill_owner],
            "state": np.r_[state, np.where(guarded, "checkpoint", "sealed")],
            "since": since,
            "changed_by": SAMPLE_USER,
            "road": np.r_[comp["road"].to_numpy(), vill["road"].to_numpy()],
        },
        geometry=np.r_[geoms, vill["geometry"].to_numpy()],
        crs=WGS84,
    )


def checkpoint_entrances(
    rng: np.random.Generator, entrances: pd.DataFrame, n_villages: int
) -> npt.NDArray[np.bool_]:
    """2-4 entrances per village on its best roads, one per road name."""
    wanted = rng.integers(2, 5, size=n_villages)
    ranked = entrances.assign(tie=rng.random(len(entrances))).sort_values(
        ["owner", "rank", "tie"], kind="stable"
    )
    ranked = ranked.drop_duplicates(["owner", "label"])
    ranked = ranked[ranked.groupby("owner").cumcount().to_numpy() < wanted[ranked["owner"]]]
    chosen = np.zeros(len(entrances), dtype=bool)
    chosen[ranked.index.to_numpy()] = True
    return chosen


def plan_checkpoints(
    rng: np.random.Generator,
    villages: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """A checkpoint at every village entrance in state ``checkpoint``."""
    at = np.flatnonzero(entrances["state"].to_numpy() == "checkpoint")
    village = entrances["village"].to_numpy()[at]
    road = entrances["road"].to_numpy()[at]
    number = pd.Series(village).groupby(village).cumcount().to_numpy() + 1
    primary = roads["highway"].to_numpy()[road] == "primary"
    names = [
        f"{v}卡点{n}（{r}）"
        for v, n, r in zip(
            villages["name"].to_numpy()[village],
            number,
            roads["label"].to_numpy()[road],
            strict=True,
        )
    ]
    return gpd.GeoDataFrame(
        {
            "source_id": serial_ids("sample:checkpoint/", at.size),
            "name": names,
            "kind": np.where(primary & (rng.random(at.size) < 0.5), "road", "village_gate"),
            "state": "active",
            "staff_per_shift": rng.choice(np.array([2, 3]), size=at.size),
            "radius_m": rng.integers(10, 31, size=at.size) * 50.0,
            "village": village,
            "entrance": at,
        },
        geometry=entrances.geometry.to_numpy()[at],
        crs=WGS84,
    )


def plan_shifts(
    rng: np.random.Generator, checkpoints: pd.DataFrame, *, today: date
) -> pd.DataFrame:
    """Three 8-hour shifts a day at every checkpoint, today and the 6 days before."""
    first = datetime.combine(today - timedelta(days=SHIFT_DAYS - 1), time(0), tzinfo=TIMEZONE)
    starts = pd.date_range(first, periods=3 * SHIFT_DAYS, freq="8h")
    n = len(checkpoints)
    wanted = np.repeat(checkpoints["staff_per_shift"].to_numpy(), starts.size)
    short = rng.random(wanted.size) < 0.125
    starts_at = starts.take(np.tile(np.arange(starts.size), n))
    return pd.DataFrame(
        {
            "checkpoint": np.repeat(np.arange(n), starts.size),
            "starts_at": starts_at,
            "ends_at": starts_at + pd.Timedelta(hours=8),
            "staff_count": np.where(short, wanted - 1, wanted),
        }
    )


# -- people on duty ---------------------------------------------------------------------------
def plan_teams(villages: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per village a checkpoint team and a day and a night patrol team (in that order)."""
    kinds = [
        ("checkpoint", "checkpoint", "卡点组"),
        ("patrol", "day", "日间巡逻队"),
        ("patrol", "night", "夜间巡逻队"),
    ]
    rows = [
        {
            "source_id": f"sample:team/{code}-{slug}",
            "name": f"{name}{label}",
            "kind": kind,
            "village": v,
        }
        for v, (code, name) in enumerate(zip(villages["code"], villages["name"], strict=True))
        for kind, slug, label in kinds
    ]
    return pd.DataFrame(rows)


def plan_staff(
    rng: np.random.Generator,
    villages: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    teams: pd.DataFrame,
    checkpoints: pd.DataFrame,
) -> pd.DataFrame:
    """Grid leaders (one per grid, in grid order), grid workers (2 per grid), team members."""
    n_grids, n_villages = len(grids), len(villages)
    grid_village = grids["village"].to_numpy()
    on_checkpoints = 3 * np.bincount(
        checkpoints["village"], weights=checkpoints["staff_per_shift"], minlength=n_villages
    ).astype(np.int64)
    patrol = rng.integers(4, 7, size=(n_villages, 2))
    team_size = np.column_stack([on_checkpoints, patrol]).ravel()  # teams are in this order
    team_village = teams["village"].to_numpy()
    team = np.repeat(np.arange(len(teams)), team_size)
    team_role = np.where(teams["kind"].to_numpy() == "checkpoint", "checkpoint_staff", "patrol")
    frame = pd.DataFrame(
        {
            "role": np.r_[
                np.full(n_grids, "grid_leader"),
                np.full(2 * n_grids, "grid_worker"),
                team_role[team],
            ],
            "village": np.r_[grid_village, np.repeat(grid_village, 2), team_village[team]],
            "grid": np.r_[
                np.arange(n_grids), np.repeat(np.arange(n_grids), 2), np.full(team.size, -1)
            ],
            "team": np.r_[np.full(3 * n_grids, -1), team],
        }
    )
    frame["source_id"] = serial_ids("sample:staff/", len(frame))
    frame["name"] = chinese_names(rng, len(frame))
    frame["phone"] = synthetic_phones(rng, len(frame))
    return frame


# -- zones and sites ----------------------------------------------------------------------
def plan_patrol_zones(
    villages: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, teams: pd.DataFrame
) -> gpd.GeoDataFrame:
    """Per village the day zone (the whole village) and the night zone (within 100 m of a
    building)."""
    halo = shapely.buffer(buildings["geom_m"].to_numpy(), 100.0, quad_segs=4)
    village = buildings["village"].to_numpy()
    settled_m = [shapely.union_all(halo[village == v]) for v in range(len(villages))]
    settled = polygonal(shapely.intersection(to_wgs84(settled_m), villages.geometry.to_numpy()))
    n = len(villages)
    names = villages["name"].to_numpy(dtype=str)
    day_team = np.flatnonzero(teams["source_id"].str.endswith("-day").to_numpy())
    night_team = np.flatnonzero(teams["source_id"].str.endswith("-night").to_numpy())
    return gpd.GeoDataFrame(
        {
            "source_id": [
                f"sample:patrol_zone/{c}-{p}" for p in ("day", "night") for c in villages["code"]
            ],
            "name": [*np.char.add(names, "日间巡逻区"), *np.char.add(names, "夜间巡逻区")],
            "period": np.repeat(["day", "night"], n),
            "team": np.r_[day_team, night_team],
            "village": np.r_[np.arange(n), np.arange(n)],
        },
        geometry=np.r_[polygonal(villages.geometry.to_numpy()), settled],
        crs=WGS84,
    )


def plan_isolation_site(
    buildings: gpd.GeoDataFrame, villages: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """One concentrated isolation site at the centroid of the largest school."""
    schools = buildings[
        buildings["amenity"].isin(["school", "college", "university"])
        | (buildings["use"] == "school")
    ]
    site = schools.loc[schools["area_m2"].idxmax()]
    label = (
        site["name"] if isinstance(site["name"], str) else villages["name"].iloc[site["village"]]
    )
    return gpd.GeoDataFrame(
        {
            "source_id": ["sample:isolation_site/1"],
            "name": [f"集中隔离点（{label}）"],
            "beds": [ISOLATION_BEDS],
            "reserve_rooms": [ISOLATION_RESERVE_ROOMS],
        },
        geometry=[shapely.centroid(site.geometry)],
        crs=WGS84,
    )


# -- visits ---------------------------------------------------------------------------------
def plan_visits(
    rng: np.random.Generator,
    households: pd.DataFrame,
    residents: pd.DataFrame,
    staff: pd.DataFrame,
    *,
    today: date,
) -> pd.DataFrame:
    """Door-to-door screening and twice-daily quarantine visits over the last 14 days."""
    n = len(households)
    grid = households["grid"].to_numpy()
    n_grids = int(staff["grid"].max()) + 1
    workers = np.flatnonzero(staff["role"].to_numpy() == "grid_worker")
    workers_of = np.full((n_grids, 2), -1, dtype=np.int64)
    workers_of[staff["grid"].to_numpy()[workers], np.arange(workers.size) % 2] = workers
    household_of = residents["household"].to_numpy()
    fever = np.bincount(household_of[residents["fever"].to_numpy()], minlength=n)

    first, last = np.datetime64(today) - VISIT_DAYS, np.datetime64(today) - 1
    back = residents[residents["returnee"]]
    returned = pd.to_datetime(back["returned_on"]).to_numpy().astype("datetime64[D]")
    until = pd.to_datetime(back["quarantine_until"]).to_numpy().astype("datetime64[D]")
    window = pd.DataFrame(
        {
            "household": back["household"],
            "start": np.maximum(returned, first),
            "end": np.minimum(until, last),
        }
    )
    window = window[window["start"] <= window["end"]]
    window = window.groupby("household").agg(start=("start", "min"), end=("end", "max"))
    q_household = window.index.to_numpy()
    q_days = (window["end"] - window["start"]).dt.days.to_numpy() + 1
    q_rows = np.repeat(q_household, 2 * q_days)
    q_offset = np.arange(q_rows.size) - np.repeat(np.cumsum(2 * q_days) - 2 * q_days, 2 * q_days)
    q_day = (
        np.repeat(window["start"].to_numpy().astype("datetime64[D]"), 2 * q_days) + q_offset // 2
    )
    q_minute = np.where(q_offset % 2 == 0, 9 * 60, 16 * 60) + rng.integers(
        -30, 31, size=q_rows.size
    )
    q_kept = rng.random(q_rows.size) >= 0.05

    quarantined = np.zeros(n, dtype=bool)
    quarantined[q_household] = True
    screened = ~quarantined & (rng.random(n) >= 0.03)
    rest = rng.random((n_grids, VISIT_DAYS)) < 0.125
    order = np.argsort(rest, axis=1, kind="stable")  # working days first
    working = (~rest).sum(axis=1)
    twice = rng.random(n) < 1 / 3
    rounds = np.r_[np.flatnonzero(screened), np.flatnonzero(screened & twice)]
    pick = np.floor(rng.random(rounds.size) * working[grid[rounds]]).astype(np.int64)
    s_day = last - order[grid[rounds], pick]
    s_minute = 8 * 60 + 30 + rng.integers(0, 9 * 60, size=rounds.size)
    result = rng.choice(
        np.array(["seen_all", "partial", "nobody_home"]), size=rounds.size, p=[0.82, 0.11, 0.07]
    )

    visit_household = np.r_[q_rows[q_kept], rounds]
    visit_day = np.r_[q_day[q_kept], s_day]
    visit_minute = np.r_[q_minute[q_kept], s_minute]
    visit_result = np.r_[
        np.where(rng.random(int(q_kept.sum())) < 0.95, "seen_all", "partial"), result
    ]
    at = pd.DatetimeIndex(visit_day.astype("datetime64[ns]")) + pd.to_timedelta(
        visit_minute, unit="min"
    )
    frame = pd.DataFrame(
        {
            "household": visit_household,
            "grid": grid[visit_household],
            "visited_at": at.tz_localize(TIMEZONE),
            "worker": workers_of[
                grid[visit_household], rng.integers(0, 2, size=visit_household.size)
            ],
            "result": visit_result,
            "fever_count": np.where(visit_result == "nobody_home", 0, fever[visit_household]),
        }
    ).sort_values(["visited_at", "household"], kind="stable", ignore_index=True)
    frame["source_id"] = serial_ids("sample:visit/", len(frame))
    return frame


# -- writing ------------------------------------------------------------------------------
def reserve_ids(conn: Connection, table: str, n: int) -> Ints:
    """``n`` ids drawn from the table's identity sequence, for rows referenced by others."""
    rows = conn.execute(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table, "n": n},
    ).scalars()
    return np.fromiter(rows, dtype=np.int64, count=n)


def ref(ids: Ints, position: npt.ArrayLike) -> pd.arrays.IntegerArray:
    """Database ids for positions into a planned frame; -1 becomes NULL."""
    pos = np.asarray(position, dtype=np.int64)
    values = ids[np.maximum(pos, 0)] if ids.size else np.zeros(pos.size, dtype=np.int64)
    return pd.arrays.IntegerArray(values, mask=pos < 0)


def geoms(shapes: Any) -> gpd.GeoSeries:
    return gpd.GeoSeries(np.asarray(shapes, dtype=object), crs=WGS84)


def write_plan(conn: Connection, plan: TownPlan) -> dict[str, int]:
    """COPY every planned row into the database; rows per table."""
    referenced = {
        "villages": plan.villages,
        "grids": plan.grids,
        "compounds": plan.compounds,
        "buildings": plan.buildings,
        "households": plan.households,
        "entrances": plan.entrances,
        "teams": plan.teams,
        "staff": plan.staff,
        "checkpoints": plan.checkpoints,
    }
    ids = {table: reserve_ids(conn, table, len(frame)) for table, frame in referenced.items()}
    counts: dict[str, int] = {}

    def copy(table: str, frame: pd.DataFrame, columns: dict[str, Any]) -> None:
        data = {
            name: frame[value].to_numpy() if isinstance(value, str) else value
            for name, value in columns.items()
        }
        if table in ids:
            data = {"id": ids[table], **data}
        if isinstance(frame, gpd.GeoDataFrame):
            data["geom"] = geoms(frame.geometry.to_numpy())
        counts[table] = copy_frame(conn, table, pd.DataFrame(data))

    village, grid, compound = ids["villages"], ids["grids"], ids["compounds"]
    copy(
        "villages",
        plan.villages,
        {c: c for c in ("source_id", "code", "name", "kind", "population")},
    )
    copy(
        "grids",
        plan.grids,
        {
            "source_id": "source_id",
            "code": "code",
            "name": "name",
            "village_id": village[plan.grids["village"]],
        },
    )
    copy(
        "compounds",
        plan.compounds,
        {
            **{c: c for c in ("source_id", "name", "kind", "closure")},
            "village_id": village[plan.compounds["village"]],
        },
    )
    copy(
        "buildings",
        plan.buildings,
        {
            **{c: c for c in ("source_id", "name", "floors", "use")},
            "compound_id": ref(compound, plan.buildings["compound"]),
            "grid_id": grid[plan.buildings["grid"]],
        },
    )
    copy("roads", plan.roads, {c: c for c in ("source_id", "highway", "name")})
    copy(
        "households",
        plan.households,
        {
            **{c: c for c in ("source_id", "unit", "room", "members", "status")},
            "building_id": ids["buildings"][plan.households["building"]],
            "grid_id": grid[plan.households["grid"]],
        },
    )
    copy(
        "residents",
        plan.residents,
        {
            **{
                c: c
                for c in (
                    "name",
                    "id_number",
                    "phone",
                    "returnee",
                    "origin",
                    "returned_on",
                    "close_contact",
                    "fever",
                    "quarantine_until",
                )
            },
            "source_id": serial_ids("sample:resident/", len(plan.residents)),
            "household_id": ids["households"][plan.residents["household"]],
            "grid_id": grid[plan.residents["grid"]],
        },
    )
    copy(
        "entrances",
        plan.entrances,
        {
            **{c: c for c in ("source_id", "name", "state", "since", "changed_by")},
            "compound_id": ref(compound, plan.entrances["compound"]),
            "village_id": ref(village, plan.entrances["village"]),
        },
    )
    copy(
        "entrance_events",
        plan.entrances[["since", "state", "changed_by"]],
        {
            "entrance_id": ids["entrances"],
            "at": "since",
            "from_state": [None] * len(plan.entrances),
            "to_state": "state",
            "user_name": "changed_by",
        },
    )
    copy(
        "teams",
        plan.teams,
        {c: c for c in ("source_id", "name", "kind")}
        | {"village_id": village[plan.teams["village"]]},
    )
    staff = ids["staff"]
    copy(
        "staff",
        plan.staff,
        {
            **{c: c for c in ("source_id", "name", "role", "phone")},
            "village_id": village[plan.staff["village"]],
            "team_id": ref(ids["teams"], plan.staff["team"]),
            "grid_id": ref(grid, plan.staff["grid"]),
        },
    )
    conn.execute(
        text(
            "UPDATE grids SET leader_id = v.leader FROM unnest(:ids, :leaders) AS v(id, leader) "
            "WHERE grids.id = v.id"
        ).bindparams(bindparam("ids"), bindparam("leaders")),
        {"ids": grid.tolist(), "leaders": staff[plan.grids["leader"]].tolist()},
    )
    copy(
        "checkpoints",
        plan.checkpoints,
        {
            **{c: c for c in ("source_id", "name", "kind", "state", "staff_per_shift", "radius_m")},
            "village_id": village[plan.checkpoints["village"]],
            "entrance_id": ids["entrances"][plan.checkpoints["entrance"]],
        },
    )
    copy(
        "checkpoint_shifts",
        plan.shifts,
        {
            **{c: c for c in ("starts_at", "ends_at", "staff_count")},
            "checkpoint_id": ids["checkpoints"][plan.shifts["checkpoint"]],
        },
    )
    copy(
        "patrol_zones",
        plan.patrol_zones,
        {
            **{c: c for c in ("source_id", "name", "period")},
            "team_id": ids["teams"][plan.patrol_zones["team"]],
            "village_id": village[plan.patrol_zones["village"]],
        },
    )
    copy(
        "isolation_sites",
        plan.isolation_sites,
        {c: c for c in ("source_id", "name", "beds", "reserve_rooms")},
    )
    copy(
        "visits",
        plan.visits,
        {
            **{c: c for c in ("source_id", "visited_at", "result", "fever_count")},
            "household_id": ids["households"][plan.visits["household"]],
            "grid_id": grid[plan.visits["grid"]],
            "worker_id": staff[plan.visits["worker"]],
        },
    )
    return counts
