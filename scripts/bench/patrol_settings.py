"""How the patrol zoning's outcome moves with its settings, on the sample town: for each
compactness weight (`zoning.COMPACT`), band (`zoning.BAND`) and correction band
(`plan.REFINE_BAND`) given, `propose_zones` as `plan patrols` calls it (one correction) with
a budget long enough for the search to end by itself, so that the figures do not depend on
the machine's load: exact max/min and Polsby-Popper median per K.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/patrol_settings.py \\
        --settings 3:0.015:0.025,3:0.015:0.03,3:0.01:0.025,3:0.02:0.025,2.5:0.015:0.025

The sample is loaded into `wangge_bench_patrols` (as `patrol_plan.py` does) and kept.
Prints one JSON line per setting.
"""

from __future__ import annotations

import argparse
import json
import statistics

import numpy as np
from measure import scratch_database

from geodata.analysis.patrols import plan, zoning
from geodata.analysis.patrols.plan import propose_zones
from geodata.samples.town import load_sample
from geodata.services.patrol_planning import load_town

DATABASE = "wangge_bench_patrols"
BUDGET_S = 60.0
"""Long enough for the search to end by itself on the sample (it needs about 3 s at K = 24)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--settings",
        default="3:0.015:0.025",
        help="comma-separated COMPACT:BAND:REFINE_BAND triples",
    )
    parser.add_argument("--k", default="12,24", help="the zone counts")
    args = parser.parse_args()
    with scratch_database(DATABASE, drop=False) as owner:
        with owner.begin() as conn:
            load_sample(conn, seed=2020)
        with owner.connect() as conn:
            town = load_town(conn).town
    units = np.arange(town.blocks.count, dtype=np.int64)
    for triple in args.settings.split(","):
        compact, band, refine_band = (float(x) for x in triple.split(":"))
        zoning.COMPACT, zoning.BAND, plan.REFINE_BAND = compact, band, refine_band
        row: dict[str, object] = {"compact": compact, "band": band, "refine_band": refine_band}
        for k in (int(x) for x in args.k.split(",")):
            zones = propose_zones(town, units, k, budget_s=BUDGET_S)
            hours = [z.hours for z in zones]
            row[f"k{k}"] = {
                "hours_max_min": round(max(hours) / min(hours), 4),
                "polsby_popper_median": round(statistics.median(z.polsby_popper for z in zones), 3),
                "pieces_max": max(z.pieces for z in zones),
            }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
