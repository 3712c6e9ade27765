"""Time each GeoJSON layer of the map on the 1,000,000-household synthetic town.

The whole layer (no bbox), as the app role of a town-wide commander reads it; median of runs.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/map_layers.py --runs 3
"""

from __future__ import annotations

import argparse
import functools
import statistics

from measure import machine, map_town, timed
from sqlalchemy import text

from geodata.maps.layers import LAYERS, feature_collection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    _, _, owner, app = map_town(args.households, args.seed)
    try:
        print(machine())
        for name, source in LAYERS.items():
            with app.connect() as conn:
                conn.execute(text("SET ROLE wangge_town"))
                seconds, body = timed(
                    functools.partial(feature_collection, conn, source), args.runs
                )
                conn.rollback()
            print(
                f"{name:<16} median {statistics.median(seconds):7.3f} s "
                f"(runs {', '.join(f'{s:.3f}' for s in seconds)}), {len(body) / 1024:,.0f} KiB"
            )
    finally:
        owner.dispose()
        app.dispose()


if __name__ == "__main__":
    main()
