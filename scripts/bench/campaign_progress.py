"""Time a screening campaign's progress over every grid of a synthetic county.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/campaign_progress.py --runs 5
    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/campaign_progress.py \
        --households 190000 --runs 5

The county: by default the one the other county benchmarks share, 450,000 households
(about 1.16 million residents, 405,000 visits over two weeks) in 900 grids, loaded on first
use into `wangge_bench_county_<seed>` and kept; with `--households N`, a county of N
households in 900 grids in `wangge_bench_campaign_<N>_<seed>`. Visits without
`people_seen` get one first (a seen-all visit saw every resident of its household, a partial
one all but one or two, nobody-home none). The campaign covers every grid, from 7 days
before the county's reference day to 7 days after; progress is asked at noon of the
reference day (town time), just past half-way.

Each run, in one transaction rolled back: `geodata.services.campaigns.progress` as an admin
on the app role (row security on, the town role set, audited), the headline figure; the
same as a planner (the disclosure rules: rounding, suppression); the records' one SQL
statement alone as the owner, and that statement as PostgreSQL plans it when hash joins are
allowed. Beside them, the naive way: one query per grid for each figure (which must agree).
Prints every run, the medians of wall time and of CPU time (the database backend's, read
from /proc, and this process's: on a machine shared with other work the wall time grows
with the load, the CPU time much less) and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import measure
import orjson
from sqlalchemy import Connection, Engine, text

from geodata.auth.access import Principal
from geodata.db.cluster import LocalCluster
from geodata.records import campaigns as records
from geodata.samples.synthetic import SyntheticSpec
from geodata.services import campaigns as service
from geodata.settings import Settings
from geodata.town_time import TOWN_TIMEZONE
from geodata.vocab import Role

GRIDS = 900
NAME = "bench: every grid"

PEOPLE_SEEN = """
UPDATE visits v SET people_seen = CASE v.result
    WHEN 'seen_all' THEN r.people
    WHEN 'partial' THEN greatest(r.people - 1 - (v.id % 2)::int, 0)
    ELSE 0 END
FROM (SELECT household_id, count(*)::int AS people FROM residents GROUP BY household_id) r
WHERE r.household_id = v.household_id
"""


def county(households: int | None, seed: int) -> tuple[Engine, Engine, SyntheticSpec]:
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    if households is None:
        spec = SyntheticSpec.from_counts(
            households=450_000, grids=GRIDS, checkpoints=2_000, seed=seed
        )
        name = f"wangge_bench_county_{seed}"
    else:
        spec = SyntheticSpec.from_counts(households=households, grids=GRIDS, seed=seed)
        name = f"wangge_bench_campaign_{households}_{seed}"
    owner, app = measure.open_synthetic_town(cluster, spec, name)
    return owner, app, spec


def prepare(owner: Engine, spec: SyntheticSpec) -> tuple[int, datetime]:
    """Visits with `people_seen` (once), and a campaign over every grid (made anew)."""
    with owner.begin() as conn:
        if not conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM visits WHERE people_seen IS NOT NULL)")
        ).scalar_one():
            print("setting people_seen on the visits", flush=True)
            conn.execute(text(PEOPLE_SEEN))
    with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE visits"))
    middle = datetime.combine(spec.reference_date, clock(12), tzinfo=TOWN_TIMEZONE)
    start = datetime.combine(spec.reference_date, clock(), tzinfo=TOWN_TIMEZONE) - timedelta(7)
    with owner.begin() as conn:
        conn.execute(text("DELETE FROM campaigns WHERE name = :n"), {"n": NAME})
        villages = tuple(conn.execute(text("SELECT code FROM villages")).scalars())
        made = records.add(
            conn,
            records.NewCampaign(NAME, start, start + timedelta(days=14), villages=villages),
            actor="bench",
        )
    return int(made["id"]), middle


def backend_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a PostgreSQL backend of the local cluster has used."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def planner_joins(conn: Connection, campaign_id: int, now: datetime) -> int:
    """The records' statement as the planner plans it by itself (hash joins allowed)."""
    start = conn.execute(
        text("SELECT starts_at FROM campaigns WHERE id = :c"), {"c": campaign_id}
    ).scalar_one()
    ids = conn.execute(
        text("SELECT grid_id FROM campaign_grids WHERE campaign_id = :c"), {"c": campaign_id}
    ).scalars()
    rows = conn.execute(
        records.PROGRESS_SQL, {"grid_ids": list(ids), "start": start, "until": now}
    ).all()
    return len(rows)


def naive(conn: Connection, campaign_id: int, now: datetime) -> list[dict[str, Any]]:
    """One query per grid and figure, as a first version would do it."""
    start = conn.execute(
        text("SELECT starts_at FROM campaigns WHERE id = :c"), {"c": campaign_id}
    ).scalar_one()
    grids = conn.execute(
        text(
            "SELECT g.id, g.code FROM campaign_grids cg JOIN grids g ON g.id = cg.grid_id"
            " WHERE cg.campaign_id = :c ORDER BY g.code"
        ),
        {"c": campaign_id},
    ).all()
    window = {"s": start, "n": now}
    out = []
    for grid in grids:
        g = {"g": grid.id, **window}
        households = conn.execute(
            text("SELECT count(*) FROM households WHERE grid_id = :g"), g
        ).scalar_one()
        seen = conn.execute(
            text(
                "SELECT count(DISTINCT v.household_id) FROM visits v JOIN households h"
                " ON h.id = v.household_id WHERE h.grid_id = :g AND v.visited_at >= :s"
                " AND v.visited_at <= :n AND v.result IN ('seen_all', 'partial')"
            ),
            g,
        ).scalar_one()
        registered = conn.execute(
            text(
                "SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id"
                " WHERE h.grid_id = :g"
            ),
            g,
        ).scalar_one()
        counted = conn.execute(
            text(
                "SELECT coalesce(sum(least(m.most, (SELECT count(*) FROM residents r"
                " WHERE r.household_id = m.household_id))), 0) FROM (SELECT v.household_id,"
                " max(v.people_seen) AS most FROM visits v JOIN households h"
                " ON h.id = v.household_id WHERE h.grid_id = :g AND v.visited_at >= :s"
                " AND v.visited_at <= :n AND v.result IN ('seen_all', 'partial')"
                " GROUP BY v.household_id) m"
            ),
            g,
        ).scalar_one()
        out.append(
            {
                "grid": grid.code,
                "households": households,
                "seen": seen,
                "people_registered": registered,
                "people_counted": counted,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--households", type=int, default=None)
    parser.add_argument("--naive-runs", type=int, default=3)
    args = parser.parse_args()
    owner, app, spec = county(args.households, args.seed)
    campaign_id, now = prepare(owner, spec)
    admin = Principal(name="bench-admin", role=Role.ADMIN)
    planner = Principal(name="bench-planner", role=Role.PLANNER)

    cpu: list[float] = []
    """CPU seconds of the last call: the database backend's and this process's."""

    def through(engine: Engine, call: Callable[[Connection], Any]) -> Any:
        with engine.connect() as conn, conn.begin() as outer:
            pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            before = backend_cpu_s(pid), time.process_time()
            try:
                return call(conn)
            finally:
                outer.rollback()
                cpu.append(backend_cpu_s(pid) - before[0] + time.process_time() - before[1])

    cases: dict[str, Callable[[], Any]] = {
        "service, admin (app role)": lambda: through(
            app, lambda c: service.progress(c, admin, campaign_id, at=now)
        ),
        "service, planner (disclosed)": lambda: through(
            app, lambda c: service.progress(c, planner, campaign_id, at=now)
        ),
        "records SQL (owner)": lambda: through(
            owner, lambda c: records.progress(c, campaign_id, now)
        ),
        "the statement with hash joins (owner)": lambda: through(
            owner, lambda c: planner_joins(c, campaign_id, now)
        ),
        "naive per-grid queries (owner)": lambda: through(
            owner, lambda c: naive(c, campaign_id, now)
        ),
    }
    medians: dict[str, dict[str, float]] = {}
    results: dict[str, Any] = {}
    for label, call in cases.items():
        runs = args.naive_runs if label.startswith("naive") else args.runs
        if not label.startswith("naive"):
            call()  # warm the cache and the pool
        seconds, cpu_s = [], []
        for _ in range(runs):
            started = time.perf_counter()
            results[label] = call()
            seconds.append(time.perf_counter() - started)
            cpu_s.append(cpu[-1])
        medians[label] = {"wall": statistics.median(seconds), "cpu": statistics.median(cpu_s)}
        print(f"{label}: " + ", ".join(f"{s:.3f}" for s in seconds) + " s;"
              f" median {medians[label]['wall']:.3f} s wall, {medians[label]['cpu']:.3f} s CPU",
              flush=True)  # fmt: skip
    slow = results["naive per-grid queries (owner)"]
    exact = results["records SQL (owner)"]["grids"]
    figures = ("grid", *records.PROGRESS_FIGURES)
    assert [{k: g[k] for k in figures} for g in exact] == slow, "naive and SQL disagree"
    totals = {f: sum(g[f] for g in exact) for f in records.PROGRESS_FIGURES}
    behind = sum(bool(g["behind_pace"]) for g in exact)
    print(
        orjson.dumps(
            {
                "machine": measure.machine(),
                "grids": len(exact),
                "totals": totals,
                "behind_pace": behind,
                "as_of": now.isoformat(),
                "medians_s": {
                    k: {kind: round(v, 4) for kind, v in m.items()} for k, m in medians.items()
                },
                "load_average": os.getloadavg(),
            },
            option=orjson.OPT_INDENT_2,
        ).decode()
    )


if __name__ == "__main__":
    main()
