"""The planner's patrol zones page on the sample town: a proposal, then moves of one street
block each rescored (only the zones a move changes measured again), beside a fresh
measurement of every zone of the same assignment; and the town model kept against loaded.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/patrol_edit.py --k 12 --moves 10

The sample is loaded once into `wangge_bench_patrol_edit` (kept with --keep). Prints every
timing, the medians, the load averages and the machine, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import numpy as np
from measure import machine, scratch_database
from sqlalchemy import text

from geodata.analysis.patrols.pace import Pace
from geodata.analysis.patrols.rescore import MoveRefused, measure, move
from geodata.auth.access import local_operator
from geodata.samples.town import load_sample
from geodata.services import patrol_proposals as pp
from geodata.services.patrol_planning import load_town

DATABASE = "wangge_bench_patrol_edit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--period", default="day")
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the database for a rerun")
    args = parser.parse_args()
    who = local_operator("bench")
    report: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg(), "k": args.k}
    with scratch_database(DATABASE, drop=not args.keep) as owner:
        with owner.begin() as conn:
            if not conn.execute(text("SELECT count(*) FROM villages")).scalar_one():
                load_sample(conn, seed=2020)
        with owner.connect() as conn:
            started = time.perf_counter()
            model = load_town(conn)
            report["load_town_s"] = round(time.perf_counter() - started, 2)
            started = time.perf_counter()
            plan = pp.propose(conn, who, zones=args.k, period=args.period)
            report["propose_s"] = round(time.perf_counter() - started, 2)
            report["blocks"] = len(plan["units"]["features"])
            report["hours_max_min"] = plan["hours_max_min"]
            started = time.perf_counter()
            model = pp._town(conn, plan["town"], "town")
            report["kept_town_s"] = round(time.perf_counter() - started, 4)
            feats = plan["units"]["features"]
            units = [f["properties"]["unit"] for f in feats]
            zones = [f["properties"]["zone"] for f in feats]
            u, z = np.array(units), np.array(zones) - 1
            zone_of = dict(zip(units, z.tolist(), strict=True))
            moves: list[tuple[int, int]] = []
            for a, b in model.town.blocks.pairs.tolist():
                if a in zone_of and b in zone_of and zone_of[a] != zone_of[b]:
                    try:
                        move(model.town, u, z, a, zone_of[b], args.k)
                    except MoveRefused:
                        continue
                    moves.append((a, zone_of[b] + 1))
                    if len(moves) == args.moves:
                        break
            rescore_s, fresh_s, changed = [], [], []
            for unit, to in moves:
                started = time.perf_counter()
                answer = pp.rescore_move(
                    conn, who, town=plan["town"], period=args.period, village=None,
                    keep_existing=False, units=units, zones=zones, unit=unit, to=to,
                )  # fmt: skip
                rescore_s.append(time.perf_counter() - started)
                changed.append(len(answer["changed"]))
                after = np.where(u == unit, to - 1, z)
                started = time.perf_counter()
                measure(model.town, u, after, args.k, Pace())
                fresh_s.append(time.perf_counter() - started)
    report["moves"] = len(moves)
    report["rescore_s"] = [round(s, 3) for s in rescore_s]
    report["fresh_measure_s"] = [round(s, 3) for s in fresh_s]
    report["zones_changed"] = changed
    report["median_rescore_s"] = round(statistics.median(rescore_s), 3) if rescore_s else None
    report["median_fresh_s"] = round(statistics.median(fresh_s), 3) if fresh_s else None
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
