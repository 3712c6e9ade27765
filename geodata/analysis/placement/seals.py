"""Which entrance of each compound stays open: the shortest total walk for its households.

Walks run along the roads and paths (straight to the nearest node at each end), or in a
straight line for a compound whose households or entrances the paths do not join. Among the
entrances within SLACK of the shortest total walk, one already guarded is preferred, then
one on a main road, then one already open. Every other entrance is to be sealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geodata.analysis.coverage.closure import OPEN_STATES, SEALED, guarded
from geodata.analysis.coverage.network import RoadNetwork
from geodata.analysis.placement.reach_matrix import road_graph

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

SLACK = 0.10
"""A guarded or main-road entrance is kept over a shorter one if its walk is this much longer."""
MAIN_ROAD_M = 20.0
"""An entrance this close to a main road is on it."""
MAIN_ROADS = frozenset(
    {"motorway", "trunk", "primary", "secondary", "tertiary"}
    | {"motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link"}
)
WALK_LIMIT_M = 3_000.0
"""Routes longer than this count as not joined by the paths."""


@dataclass(frozen=True)
class Paths:
    """The road graph as a sparse matrix, with a tree of its nodes: built once per plan."""

    graph: sp.csr_array
    nodes: cKDTree

    @classmethod
    def of(cls, network: RoadNetwork) -> Paths:
        return cls(road_graph(network), cKDTree(network.node_xy))


def walk_matrix(paths: Paths | None, from_xy: Floats, to_xy: Floats) -> tuple[Floats, bool]:
    """Walks (metres) from each `from` point to each `to` point; whether along the paths.

    Straight-line distances when there is no network or some pair is not joined by it.
    """
    straight = np.hypot(
        from_xy[:, None, 0] - to_xy[None, :, 0], from_xy[:, None, 1] - to_xy[None, :, 1]
    )
    if paths is None or not paths.graph.shape[0] or not len(from_xy) or not len(to_xy):
        return straight, False
    tree = paths.nodes
    f_snap, f_node = tree.query(from_xy)
    t_snap, t_node = tree.query(to_xy)
    sources, pos = np.unique(np.asarray(f_node, np.int64), return_inverse=True)
    dist = dijkstra(paths.graph, directed=False, indices=sources, limit=WALK_LIMIT_M)
    along = np.asarray(dist, float).reshape(len(sources), -1)[pos][:, np.asarray(t_node)]
    walks = along + np.asarray(f_snap, float)[:, None] + np.asarray(t_snap, float)[None, :]
    if not np.all(np.isfinite(walks)):
        return straight, False
    return walks, True


def on_main_road(entrance_xy: Floats, roads_m: NDArray[np.object_], highways: Any) -> Bools:
    """Entrances within MAIN_ROAD_M of a main road (road lines in metres)."""
    main = np.asarray(roads_m, dtype=object)[np.isin(np.asarray(highways), list(MAIN_ROADS))]
    near = np.zeros(len(entrance_xy), dtype=bool)
    if not len(main) or not len(entrance_xy):
        return near
    idx, _ = shapely.STRtree(main).query(
        shapely.points(entrance_xy), predicate="dwithin", distance=MAIN_ROAD_M
    )
    near[idx] = True
    return near


def seal_plan(
    entrances: pd.DataFrame,
    homes: pd.DataFrame,
    *,
    network: RoadNetwork | None,
    guarded_ids: set[int],
    main_road_ids: set[int],
) -> list[dict[str, Any]]:
    """For each compound with entrances: the one to keep open and those to seal, with reasons.

    `entrances`: id, source_id, compound_id, state, x, y (metres); `homes`: compound_id, x, y,
    households (households of one building). Compounds with one entrance appear only when
    it is not open (it must be reopened: a compound is never left without one).
    """
    paths = Paths.of(network) if network is not None and len(network.node_xy) else None
    plans: list[dict[str, Any]] = []
    owned = entrances[entrances["compound_id"].notna()]
    homes_by_compound = {int(str(c)): g for c, g in homes.groupby("compound_id")}
    for compound_id, gates in owned.groupby("compound_id", sort=True):
        gates = gates.sort_values("id")
        states = gates["state"].astype(object).tolist()
        if len(gates) == 1 and states[0] in OPEN_STATES:
            continue
        here = homes_by_compound.get(int(float(str(compound_id))))
        gate_xy = gates[["x", "y"]].to_numpy(float)
        if here is None or not len(here):
            totals, along = np.zeros(len(gates)), False
        else:
            walks, along = walk_matrix(paths, gate_xy, here[["x", "y"]].to_numpy(float))
            totals = walks @ here["households"].to_numpy(float)
        ids = gates["id"].to_numpy(np.int64)
        is_guarded = np.isin(ids, list(guarded_ids)) | (np.asarray(states) == "checkpoint")
        is_main = np.isin(ids, list(main_road_ids))
        is_open = np.isin(np.asarray(states, dtype=object), OPEN_STATES)
        best = float(totals.min())
        eligible = totals <= best * (1 + SLACK) + 1e-6
        order = np.lexsort((ids, totals, ~is_open, ~is_main, ~is_guarded, ~eligible))
        keep = int(order[0])
        if totals[keep] <= best + 1e-6 and len(gates) > 1:
            why = "shortest total walk for the households"
        elif len(gates) == 1:
            why = "the only entrance: a compound is never left without one"
        elif is_guarded[keep]:
            why = f"already guarded, total walk within {SLACK:.0%} of the shortest"
        elif is_main[keep]:
            why = f"on a main road, total walk within {SLACK:.0%} of the shortest"
        else:
            why = f"already open, total walk within {SLACK:.0%} of the shortest"
        kept_source = str(gates["source_id"].iloc[keep])

        entries = [
            {
                "id": int(ids[i]),
                "source_id": str(gates["source_id"].iloc[i]),
                "state": states[i],
                "total_walk_m": round(float(totals[i]), 1),
                "guarded": bool(is_guarded[i]),
                "main_road": bool(is_main[i]),
            }
            for i in range(len(gates))
        ]
        seal = []
        for i in range(len(gates)):
            if i == keep:
                continue
            if states[i] == SEALED:
                reason = "already sealed"
            else:
                extra = float(totals[i] - totals[keep])
                reason = f"one entrance stays open ({kept_source}); walk {extra:+.0f} m in total"
            seal.append({**entries[i], "reason": reason})
        changes = int(not is_open[keep]) + sum(1 for s in seal if s["state"] != SEALED)
        plans.append(
            {
                "compound_id": int(float(str(compound_id))),
                "entrances": len(gates),
                "households": int(here["households"].sum()) if here is not None else 0,
                "distance": "paths" if along else "straight",
                "keep": {**entries[keep], "reason": why},
                "seal": seal,
                "changes": changes,
            }
        )
    return plans


__all__ = ["Paths", "guarded", "on_main_road", "seal_plan", "walk_matrix"]
