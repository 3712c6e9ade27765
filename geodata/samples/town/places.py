"""Villages, buildings, roads and compounds of the sample town, from the OSM extract."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.samples.osm_extract import WGS84, OsmExtract, source_ids
from geodata.samples.osm_extract import building_floors as osm_building_floors
from geodata.samples.town.geometry import Geoms, Ints, largest_polygon, locate, to_metric, to_wgs84
from geodata.samples.town.households import households_per_building
from geodata.samples.town.plan import serial_ids

CODE_PREFIX = "9900"
COMPOUND_BUFFER_M = 6.0
COMPOUND_MIN_BUILDINGS = 4
COMPOUND_MAX_HOUSEHOLDS = 250

RESIDENTIAL_BUILDINGS = ("house", "residential", "apartments", "yes", "detached", "terrace")
NON_RESIDENTIAL_LANDUSE = (
    "industrial",
    "commercial",
    "farmyard",
    "quarry",
    "cemetery",
    "construction",
)
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


def plan_compounds(
    rng: np.random.Generator,
    buildings: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Compounds from clusters of residential buildings (see ``town``)."""
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
