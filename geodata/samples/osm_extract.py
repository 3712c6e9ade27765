"""The bundled OpenStreetMap extract of Liechtenstein (2013-08-03) and what its tags mean."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely

EXTRACT_PATH = Path(__file__).parent / "data" / "liechtenstein-2013-08-03.geojson.zip"
LAYERS = ("boundaries", "buildings", "roads", "landuse")
WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:2056"  # Swiss LV95, in metres: the national grid of Liechtenstein too
COUNTRY_LEVEL = 2
MUNICIPALITY_LEVEL = 8

# Floors by OSM `building` value when `building:levels` is absent.
FLOORS_BY_BUILDING: dict[str, int] = {
    "house": 2,
    "farm": 2,
    "commercial": 3,
    "school": 3,
    "station": 2,
}


@dataclass(frozen=True)
class OsmExtract:
    """The layers of the extract, in EPSG:4326, with ``osm_type`` and ``osm_id`` columns."""

    municipalities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame


def read_layer(name: str, *, path: Path = EXTRACT_PATH) -> gpd.GeoDataFrame:
    """One layer of the zipped GeoJSON extract."""
    frame = pyogrio.read_dataframe(f"/vsizip/{path}/{name}.geojson")
    return frame.set_crs(WGS84, allow_override=True)


def municipalities(boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Boundaries of admin_level 8 inside the admin_level 2 one, by municipality number.

    The extract also holds a neighbouring municipality of another country (Fläsch, CH):
    its representative point lies outside the country and so it is left out.
    """
    country = shapely.union_all(
        boundaries.geometry[boundaries["admin_level"] == COUNTRY_LEVEL].to_numpy()
    )
    level8 = boundaries[boundaries["admin_level"] == MUNICIPALITY_LEVEL]
    inside = shapely.within(level8.geometry.representative_point().to_numpy(), country)
    chosen = level8[inside].copy()
    chosen["municipality_number"] = chosen["municipality_number"].astype("int64")
    parts, index = shapely.get_parts(chosen.geometry.to_numpy(), return_index=True)
    chosen["geometry"] = shapely.multipolygons(parts, indices=index)
    return chosen.sort_values("municipality_number").reset_index(drop=True)


def read_extract(*, path: Path = EXTRACT_PATH) -> OsmExtract:
    """All layers the sample town needs, in EPSG:4326."""
    boundaries = read_layer("boundaries", path=path)
    roads = read_layer("roads", path=path)
    parts = roads.explode(index_parts=True)
    part = parts.index.get_level_values(1).to_numpy()
    parts = parts.reset_index(drop=True)
    parts["part"] = part
    return OsmExtract(
        municipalities=municipalities(boundaries),
        buildings=read_layer("buildings", path=path),
        roads=parts,
        landuse=read_layer("landuse", path=path),
    )


def source_ids(osm_type: pd.Series, osm_id: pd.Series) -> list[str]:
    """Stable source ids such as ``osm:way/2104``."""
    kind = np.char.add("osm:", osm_type.to_numpy().astype(str))
    return [str(s) for s in np.char.add(np.char.add(kind, "/"), osm_id.to_numpy().astype(str))]


def building_floors(
    rng: np.random.Generator, building: pd.Series, levels: pd.Series
) -> npt.NDArray[np.int64]:
    """Floors from ``building:levels`` where tagged, else by the ``building`` value.

    house/farm 2; residential/apartments 3 or 4; yes 2 (1 or 3 in one case of ten each);
    commercial/school 3; station 2; anything else (industrial, church, roof, hut...) 1.
    """
    kind = building.fillna("yes").astype(str).to_numpy()
    n = kind.size
    floors = pd.Series(kind).map(FLOORS_BY_BUILDING).fillna(1).to_numpy(dtype=np.int64)
    flats = np.isin(kind, ["residential", "apartments"])
    floors[flats] = rng.integers(3, 5, size=n)[flats]
    generic = kind == "yes"
    floors[generic] = rng.choice(np.array([1, 2, 3]), size=n, p=[0.1, 0.8, 0.1])[generic]
    tagged = pd.to_numeric(levels, errors="coerce").to_numpy(dtype=float)
    has_levels = np.isfinite(tagged)
    floors[has_levels] = np.clip(np.rint(tagged[has_levels]), 1, 200).astype(np.int64)
    return np.asarray(floors, dtype=np.int64)
