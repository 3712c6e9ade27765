"""Patrol zoning and routing on the sample town.

Zones for K = 6, 12, 24: the zoning's time (balanced on the estimated route, `estimate.py`),
then the time to measure each zone's exact postman route once; max/min of the estimated
hours the zoning balanced and of the exact route hours; Polsby-Popper median; pieces. Beside
it, in the same run: plain METIS (contiguous, on the blocks' street and stop hours, no local
search) measured the same way, and `propose_zones` as `plan patrols` calls it (`refine=1`:
one correction from the exact routes, a short polish and a second measurement). Then each
zone's postman route of the K = 12 plan (time per zone, total), and the length
networkx.eulerize gives on each zone's largest connected piece of streets (eulerize needs a
connected graph; it pairs odd nodes by hops, not metres), beside the exact postman length of
that piece.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/patrol_plan.py --runs 3

The sample is loaded once into `wangge_bench_patrols` (kept with --keep). Prints every run,
the medians and the machine, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import networkx as nx
import numpy as np
from measure import machine, scratch_database

from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.plan import (
    PatrolTown,
    Zone,
    measure_zones,
    propose_zones,
    zone_blocks,
)
from geodata.analysis.patrols.postman import postman_tour, tjoin_solver
from geodata.analysis.patrols.zoning import metis_parts
from geodata.auth.access import local_operator
from geodata.records.patrol_inputs import fetch_patrol_inputs
from geodata.samples.town import load_sample
from geodata.services.patrol_routes import patrol_route_plan

DATABASE = "wangge_bench_patrols"
LOOP_HOURS = 24.0
"""Loops of `plan routes`: the sample's own zones (a village each) reach segments up to 10.4 h
there and back from a node."""


def largest_piece(town: PatrolTown, units: np.ndarray) -> np.ndarray:
    """The zone's segments in its largest connected piece of streets."""
    st = town.streets
    g: nx.MultiGraph[int] = nx.MultiGraph()
    for s in town.segments_of(units).tolist():
        g.add_edge(int(st.u[s]), int(st.v[s]), key=s)
    if g.number_of_edges() == 0:
        return np.zeros(0, dtype=np.int64)
    piece = max(nx.connected_components(g), key=len)
    return np.array(sorted(k for _, _, k in g.subgraph(piece).edges(keys=True)), dtype=np.int64)


def eulerize_m(town: PatrolTown, segments: np.ndarray) -> float:
    """networkx.eulerize's closed walk over these (connected) segments."""
    st = town.streets
    g: nx.MultiGraph[int] = nx.MultiGraph()
    for s in segments.tolist():
        g.add_edge(int(st.u[s]), int(st.v[s]), weight=float(st.length_m[s]))
    e = nx.eulerize(g)
    # the edges eulerize adds are bare copies of existing ones: their metres are the
    # shortest segment between the same two nodes
    total = 0.0
    for a, b, d in e.edges(data=True):
        if "weight" in d:
            total += float(d["weight"])
        else:
            total += min(float(x["weight"]) for x in g.get_edge_data(a, b).values())
    return total


def _figures(zones: list[Zone]) -> dict[str, Any]:
    hours = [z.hours for z in zones]
    estimated = [z.estimated_hours for z in zones]
    return {
        "hours_max_min": round(max(hours) / min(hours), 4),
        "estimated_max_min": round(max(estimated) / min(estimated), 4),
        "hours": [round(h, 2) for h in hours],
        "estimated": [round(h, 2) for h in estimated],
        "polsby_popper_median": round(float(np.median([z.polsby_popper for z in zones])), 3),
        "pieces_max": max(z.pieces for z in zones),
        # the bound on each route's pairing over the optimum (the exact solver's rounding)
        "matching_gap_m_max": round(max(z.matching_gap_m for z in zones), 2),
    }


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(r[key] for r in rows)), 4)


def zoning(town: PatrolTown, k: int, runs: int) -> dict[str, Any]:
    """The zoning (estimate only) and the exact measurement, timed apart, `runs` times."""
    units = np.arange(town.blocks.count, dtype=np.int64)
    rows, zones = [], []
    for _ in range(runs):
        load = os.getloadavg()[0]
        started = time.perf_counter()
        zone = zone_blocks(town, units, k)
        zoning_s = time.perf_counter() - started
        started = time.perf_counter()
        zones = measure_zones(town, units, zone, k)
        measure_s = time.perf_counter() - started
        rows.append(
            {"zoning_s": round(zoning_s, 2), "measure_s": round(measure_s, 2), "load": load}
            | _figures(zones)
        )
    return {
        "k": k,
        "median_zoning_s": _median(rows, "zoning_s"),
        "median_measure_s": _median(rows, "measure_s"),
        "median_hours_max_min": _median(rows, "hours_max_min"),
        "median_estimated_max_min": _median(rows, "estimated_max_min"),
        "median_polsby_popper": _median(rows, "polsby_popper_median"),
        "pieces_max": max(r["pieces_max"] for r in rows),
        "runs": rows,
        "_zones": zones,
    }


def refined(town: PatrolTown, k: int, runs: int) -> dict[str, Any]:
    """The zoning with one correction from the exact routes: time in all, figures."""
    units = np.arange(town.blocks.count, dtype=np.int64)
    rows = []
    for _ in range(runs):
        load = os.getloadavg()[0]
        started = time.perf_counter()
        zones = propose_zones(town, units, k, refine=1)
        rows.append(
            {"total_s": round(time.perf_counter() - started, 2), "load": load} | _figures(zones)
        )
    return {
        "k": k,
        "median_total_s": _median(rows, "total_s"),
        "median_hours_max_min": _median(rows, "hours_max_min"),
        "median_polsby_popper": _median(rows, "polsby_popper_median"),
        "pieces_max": max(r["pieces_max"] for r in rows),
        "runs": rows,
    }


def plain_metis(town: PatrolTown, k: int) -> dict[str, Any]:
    """METIS alone (contiguous, cutting short boundaries) on the blocks' street and stop
    hours, measured as the zoning is."""
    b = town.blocks
    units = np.arange(b.count, dtype=np.int64)
    weight = np.asarray(Pace().hours(b.road_m, b.stops.astype(float)), dtype=float)
    started = time.perf_counter()
    zone = metis_parts(b.count, b.pairs, weight, k, shared_m=b.shared_m)
    metis_s = time.perf_counter() - started
    zones = measure_zones(town, units, zone, k)
    return {"k": k, "metis_s": round(metis_s, 2)} | _figures(zones)


def tjoin_time(town: PatrolTown, units: np.ndarray) -> tuple[int, float]:
    """The odd-degree nodes of the zone's streets and the milliseconds of their exact
    pairing (the T-join alone, its solver already built)."""
    segments = town.segments_of(units)
    st = town.streets
    degree = np.bincount(np.r_[st.u[segments], st.v[segments]], minlength=len(st.node_xy))
    odd = np.flatnonzero(degree % 2).astype(np.int64)
    solver = tjoin_solver(town.net)
    started = time.perf_counter()
    solver.solve(odd)
    return len(odd), 1000 * (time.perf_counter() - started)


def routing(town: PatrolTown, zones: list[Any]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    total_s = 0.0
    for n, z in enumerate(zones, start=1):
        started = time.perf_counter()
        tour = town.zone_tour(z.units)
        took = time.perf_counter() - started
        total_s += took
        odd_nodes, tjoin_ms = tjoin_time(town, z.units)
        piece = largest_piece(town, z.units)
        exact = postman_tour(town.net, piece, int(town.streets.u[piece[0]]))
        euler = eulerize_m(town, piece)
        rows.append(
            {
                "zone": n,
                "seconds": round(took, 2),
                "street_m": round(tour.street_m),
                "route_m": round(tour.route_m),
                "deadhead_pct": round(100 * (tour.route_m / tour.street_m - 1), 1),
                "matching_gap_m": round(tour.matching_gap_m, 2),
                "odd_nodes": odd_nodes,
                "tjoin_ms": round(tjoin_ms, 2),
                "largest_piece_street_m": round(exact.street_m),
                "largest_piece_postman_m": round(exact.route_m),
                "largest_piece_eulerize_m": round(euler),
                "eulerize_longer_pct": round(100 * (euler / exact.route_m - 1), 2),
            }
        )
    return {"total_s": round(total_s, 2), "zones": rows}


def plan_routes(owner: Any, runs: int) -> dict[str, Any]:
    """`wangge plan routes` as the command runs it (the town read from the database, every
    zone's route and loops of LOOP_HOURS from a node of its streets), `runs` times."""
    seconds, zones = [], 0
    for _ in range(runs):
        with owner.connect() as conn:
            started = time.perf_counter()
            plan = patrol_route_plan(conn, local_operator("bench"), loop_hours=LOOP_HOURS)
            seconds.append(time.perf_counter() - started)
        zones = len(plan["routes"])
    return {
        "zones": zones,
        "median_s": round(statistics.median(seconds), 2),
        "runs_s": [round(x, 2) for x in seconds],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database for a rerun")
    parser.add_argument("--k", default="6,12,24", help="the zone counts (routing: K = 12)")
    parser.add_argument("--refine-runs", type=int, default=1, help="runs of refine=1")
    parser.add_argument("--no-compare", action="store_true", help="no plain METIS, no refine")
    parser.add_argument("--no-routes", action="store_true", help="no routing of K = 12")
    args = parser.parse_args()
    with scratch_database(DATABASE, drop=not args.keep) as owner:
        with owner.begin() as conn:
            load_sample(conn, seed=2020)
        with owner.connect() as conn:
            inputs = fetch_patrol_inputs(conn)
        routes_cmd = plan_routes(owner, args.runs)
    started = time.perf_counter()
    town = PatrolTown.build(
        inputs.roads_m,
        inputs.villages_m,
        households_xy=inputs.households_xy,
        households=inputs.households,
        stops_xy=inputs.stops_xy,
    )
    build_s = time.perf_counter() - started
    report: dict[str, Any] = {
        "machine": machine(),
        "build_s": round(build_s, 2),
        "blocks": town.blocks.count,
        "segments": town.streets.count,
        "street_km": round(float(town.streets.length_m.sum()) / 1000, 1),
        "load_before": os.getloadavg(),
        "plan_routes": routes_cmd,
        "zoning": [],
        "plain_metis": [],
        "refined": [],
    }
    for k in (int(v) for v in args.k.split(",")):
        found = zoning(town, k, args.runs)
        zones = found.pop("_zones")
        if k == 12 and not args.no_routes:
            report["routing_k12"] = routing(town, zones)
        report["zoning"].append(found)
        print(json.dumps(found), flush=True)
        if not args.no_compare:
            metis = plain_metis(town, k)
            report["plain_metis"].append(metis)
            print(json.dumps(metis), flush=True)
            again = refined(town, k, args.refine_runs)
            report["refined"].append(again)
            print(json.dumps(again), flush=True)
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
