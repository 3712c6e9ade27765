"""Patrol zoning and routing on the sample town: zones for K = 6, 12, 24 (max/min hours, time,
Polsby-Popper median, pieces), each zone's postman route (time per zone, total), and the
length networkx.eulerize gives in the same run on each zone's largest connected piece of
streets (eulerize needs a connected graph; it pairs odd nodes by hops, not metres), beside
the exact postman length of that piece.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/patrol_plan.py --runs 3

The sample is loaded once into `wangge_bench_patrols` (kept with --keep). Prints every run,
the medians and the machine, as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import networkx as nx
import numpy as np
from measure import machine, scratch_database

from geodata.analysis.patrols.plan import PatrolTown, propose_zones
from geodata.analysis.patrols.postman import postman_tour
from geodata.records.patrol_inputs import fetch_patrol_inputs
from geodata.samples.town import load_sample

DATABASE = "wangge_bench_patrols"


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


def zoning(town: PatrolTown, k: int, runs: int) -> dict[str, Any]:
    units = np.arange(town.blocks.count, dtype=np.int64)
    seconds, zones = [], []
    for _ in range(runs):
        started = time.perf_counter()
        zones = propose_zones(town, units, k)
        seconds.append(time.perf_counter() - started)
    hours = [z.hours for z in zones]
    return {
        "k": k,
        "seconds": [round(s, 2) for s in seconds],
        "median_s": round(statistics.median(seconds), 2),
        "hours_max_min": round(max(hours) / min(hours), 4),
        "hours": [round(h, 2) for h in hours],
        "polsby_popper_median": round(float(np.median([z.polsby_popper for z in zones])), 3),
        "pieces_max": max(z.pieces for z in zones),
        "_zones": zones,
    }


def routing(town: PatrolTown, zones: list[Any]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    total_s = 0.0
    for n, z in enumerate(zones, start=1):
        started = time.perf_counter()
        tour = town.zone_tour(z.units)
        took = time.perf_counter() - started
        total_s += took
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
                "matching_gap_m": tour.matching_gap_m,
                "largest_piece_street_m": round(exact.street_m),
                "largest_piece_postman_m": round(exact.route_m),
                "largest_piece_eulerize_m": round(euler),
                "eulerize_longer_pct": round(100 * (euler / exact.route_m - 1), 2),
            }
        )
    return {"total_s": round(total_s, 2), "zones": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database for a rerun")
    parser.add_argument("--k", default="6,12,24", help="the zone counts (routing: K = 12)")
    args = parser.parse_args()
    with scratch_database(DATABASE, drop=not args.keep) as owner:
        with owner.begin() as conn:
            load_sample(conn, seed=2020)
        with owner.connect() as conn:
            inputs = fetch_patrol_inputs(conn)
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
        "zoning": [],
    }
    for k in (int(v) for v in args.k.split(",")):
        found = zoning(town, k, args.runs)
        zones = found.pop("_zones")
        if k == 12:
            report["routing_k12"] = routing(town, zones)
        report["zoning"].append(found)
        print(json.dumps(found), flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
