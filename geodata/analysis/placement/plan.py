"""A checkpoint plan: reach, budget (posts or staff), model, and the answer as plain data."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from geodata.analysis.coverage.metric import project_geoms, project_xy, utm_epsg
from geodata.analysis.coverage.network import RoadNetwork
from geodata.analysis.placement.covering import Placement, maximal_covering, set_covering
from geodata.analysis.placement.reach_matrix import network_coverage, straight_coverage
from geodata.vocab import SHIFTS_PER_DAY

Floats = NDArray[np.float64]
Geoms = NDArray[np.object_]
Model = Literal["mclp", "lscp"]
MODELS: tuple[Model, ...] = ("mclp", "lscp")

"""A post is staffed around the clock in three shifts."""


@dataclass(frozen=True, kw_only=True)
class PlanRequest:
    """What the planner asks for.

    mclp: at most `budget` posts (or posts whose staff fit `staff_budget`) reaching the most
    demand; lscp: the fewest posts (least staff) reaching `share` of the demand. A post needs
    `shifts × staff_per_shift` staff.
    """

    radius_m: float
    model: Model = "mclp"
    budget: int | None = None
    staff_budget: int | None = None
    shifts: int = SHIFTS_PER_DAY
    staff_per_shift: int = 2
    share: float = 1.0
    keep_existing: bool = False
    network: bool = False
    exact: bool = True
    time_limit_s: float | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.radius_m) and self.radius_m > 0):
            raise ValueError("radius_m: a positive number of metres")
        if self.model not in MODELS:
            raise ValueError("model: mclp or lscp")
        if self.model == "mclp" and self.budget is None and self.staff_budget is None:
            raise ValueError("the maximal covering model needs a budget of posts or of staff")
        for name in ("budget", "staff_budget"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} may not be negative")
        if self.shifts < 1 or self.staff_per_shift < 1:
            raise ValueError("shifts and staff_per_shift: at least 1")
        if not 0 < self.share <= 1:
            raise ValueError("share: more than 0 and at most 1")
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise ValueError("time_limit_s must be positive")

    @property
    def staff_per_post(self) -> int:
        return self.shifts * self.staff_per_shift


def demand_epsg(lon: Floats, lat: Floats) -> int:
    """The UTM zone of the demand's centroid (the mean of its positions)."""
    if not len(lon):
        return utm_epsg(0.0, 0.0)
    return utm_epsg(float(np.mean(lon)), float(np.mean(lat)))


def reach_matrix(
    demand: pd.DataFrame,
    sites: pd.DataFrame,
    request: PlanRequest,
    *,
    roads_lonlat: Geoms | None = None,
) -> tuple[sp.csr_array, int]:
    """Demand × sites reach (positions `lon`, `lat`) and the EPSG code it was measured in."""
    lon, lat = demand["lon"].to_numpy(float), demand["lat"].to_numpy(float)
    epsg = demand_epsg(lon, lat)
    demand_xy = project_xy(lon, lat, epsg)
    sites_xy = project_xy(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), epsg)
    if not request.network:
        return straight_coverage(demand_xy, sites_xy, request.radius_m), epsg
    lines = project_geoms(
        np.asarray(roads_lonlat if roads_lonlat is not None else [], dtype=object), epsg
    )
    network = RoadNetwork.from_lines(lines)
    return network_coverage(network, demand_xy, sites_xy, request.radius_m), epsg


def solve_plan(
    demand: pd.DataFrame,
    sites: pd.DataFrame,
    request: PlanRequest,
    *,
    roads_lonlat: Geoms | None = None,
) -> dict[str, Any]:
    """Solve the request over demand points (lon, lat, weight) and sites (id, kind, lon, lat).

    Sites of kind `checkpoint` are kept when `keep_existing`. The answer lists the chosen
    sites with the covered weight and share, the solver status and gap, and build and solve
    times in seconds.
    """
    started = time.perf_counter()
    reach, epsg = reach_matrix(demand, sites, request, roads_lonlat=roads_lonlat)
    build_s = time.perf_counter() - started
    weights = demand["weight"].to_numpy(float)
    fixed = (
        (sites["kind"] == "checkpoint").to_numpy(bool)
        if request.keep_existing
        else np.zeros(len(sites), dtype=bool)
    )
    staffed = request.staff_budget is not None
    costs = np.full(len(sites), float(request.staff_per_post if staffed else 1))
    placement: Placement
    if request.model == "mclp":
        posts_or_staff = request.staff_budget if staffed else request.budget
        budget = float(posts_or_staff if posts_or_staff is not None else 0)
        placement = maximal_covering(
            reach,
            weights,
            budget=budget,
            site_costs=costs,
            fixed=fixed,
            exact=request.exact,
            time_limit_s=request.time_limit_s,
        )
        objective = placement.covered_weight
    else:
        placement = set_covering(
            reach,
            weights,
            share=request.share,
            site_costs=costs,
            fixed=fixed,
            exact=request.exact,
            time_limit_s=request.time_limit_s,
        )
        objective = float(len(placement.selected))
    chosen = sites.iloc[placement.selected]
    ids, kinds = chosen["id"].astype(str).tolist(), chosen["kind"].astype(str).tolist()
    lons, lats = chosen["lon"].to_numpy(np.float64), chosen["lat"].to_numpy(np.float64)
    return {
        "status": placement.status,
        "model": request.model,
        "objective": objective,
        "covered_weight": placement.covered_weight,
        "total_weight": placement.total_weight,
        "covered_pct": round(100.0 * placement.covered_share, 6),
        "covered_points": int(placement.covered.sum()),
        "demand_points": len(demand),
        "candidates": len(sites),
        "gap": placement.gap,
        "bound": placement.bound,
        "greedy_weight": placement.greedy_weight,
        "posts": len(placement.selected),
        "staff": int(len(placement.selected) * request.staff_per_post),
        "radius_m": request.radius_m,
        "network": request.network,
        "epsg": epsg,
        "selected": [
            {
                "id": str(ids[k]),
                "kind": str(kinds[k]),
                "lon": float(lons[k]),
                "lat": float(lats[k]),
                "kept": bool(fixed[pos]),
            }
            for k, pos in enumerate(placement.selected.tolist())
        ],
        "build_s": round(build_s, 4),
        "solve_s": round(placement.solve_s, 4),
    }


def score_sites(
    demand: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    radius_m: float,
    network: bool = False,
    roads_lonlat: Geoms | None = None,
) -> dict[str, Any]:
    """The demand a given set of sites (lon, lat) reaches, overall and per site."""
    request = PlanRequest(radius_m=radius_m, budget=len(sites), network=network)
    reach, epsg = reach_matrix(demand, sites, request, roads_lonlat=roads_lonlat)
    weights = demand["weight"].to_numpy(float)
    covered = (
        np.asarray(reach.sum(axis=1)).ravel() > 0 if len(sites) else np.zeros(len(demand), bool)
    )
    per_site = reach.T.astype(np.float64) @ weights if len(sites) else np.zeros(0)
    total = float(weights.sum())
    covered_weight = float(weights[covered].sum())
    return {
        "covered_weight": covered_weight,
        "total_weight": total,
        "covered_pct": round(100.0 * covered_weight / total, 6) if total > 0 else 100.0,
        "covered_points": int(covered.sum()),
        "demand_points": len(demand),
        "radius_m": radius_m,
        "network": network,
        "epsg": epsg,
        "sites": [
            {"lon": float(lon), "lat": float(lat), "reached_weight": float(w)}
            for lon, lat, w in zip(
                sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), per_site, strict=True
            )
        ],
    }
