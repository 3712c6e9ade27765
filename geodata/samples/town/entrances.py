"""Entrances of the sample town's compounds and villages, with their states and faults."""

from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geodata.samples.osm_extract import WGS84
from geodata.samples.town.clock import local_times
from geodata.samples.town.geometry import Geoms, single_parts, to_metric, to_wgs84
from geodata.samples.town.plan import serial_ids

SAMPLE_USER = "sample"
VILLAGE_ROAD_CLASSES = ("primary", "secondary", "tertiary", "unclassified", "residential")


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
    """Compound and village entrances with their states, faults included (see ``town``)."""
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
    since = local_times(
        np.datetime64(today) - since_days.astype("timedelta64[D]"), 8 * 60 + since_minutes
    )
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
