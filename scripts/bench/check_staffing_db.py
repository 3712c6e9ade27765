"""Time the staffing rules of `wangge check` end to end from the database, on a synthetic
county whose shifts hold their people.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/check_staffing_db.py --runs 5

The county: 450,000 households in 900 grids, 2,000 checkpoints of 2 to 4 people a shift,
three 8-hour shifts a day (6,000 a day) on the reference day and the day before, each
checkpoint's people of its village in three crews (about 21,000 staff, 18,000 of them at
checkpoints); loaded on first use into `wangge_bench_county_staffed_<seed>` and kept. The
moment is 00:30 of the reference day, town time, so the rules read both days: 12,000
shifts and about 36,000 people on them.

Each run, as the owner role (what `wangge check` connects as): `duty_checks`, the function
`wangge check` calls for its six duty keys, on a new connection (timed with the connect);
then the same reads and rules one by one, for where the time goes; the topology checks of
`wangge check` (SQL on the whole county) in this process; `duty_checks` once in a fresh
Python process (imports paid, as `wangge check` pays them); then the whole
`wangge check --at MOMENT --format json` as a child process. Prints every run and the
medians; `--profile` adds cProfile's top functions of one more `duty_checks` call.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

import measure
import orjson
from sqlalchemy import Connection, Engine, text

from geodata import db
from geodata.analysis import duty_rules as rules
from geodata.db.cluster import OWNER_ROLE, LocalCluster
from geodata.records import duty_checks as reads
from geodata.records.duty_checks import DUTY_CHECKS, duty_checks
from geodata.records.topology import CHECKS, ITEM_LIMIT, run_check
from geodata.records.town_settings import setting
from geodata.samples.synthetic import SyntheticSpec
from geodata.settings import Settings
from geodata.town_time import TOWN_TIMEZONE

WANGGE = Path(sys.executable).with_name("wangge")
HOUSEHOLDS = 450_000
GRIDS = 900
CHECKPOINTS = 2_000
SHIFT_DAYS = 2


def county(seed: int) -> tuple[LocalCluster, str, Engine, SyntheticSpec]:
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    spec = SyntheticSpec.from_counts(
        households=HOUSEHOLDS, grids=GRIDS, checkpoints=CHECKPOINTS, seed=seed,
        shift_days=SHIFT_DAYS,
    )  # fmt: skip
    name = f"wangge_bench_county_staffed_{seed}"
    owner, app = measure.open_synthetic_town(cluster, spec, name)
    app.dispose()
    return cluster, name, owner, spec


def sizes(conn: Connection) -> dict[str, int]:
    counts = {}
    for table in ("grids", "checkpoints", "checkpoint_shifts", "shift_staff", "staff"):
        counts[table] = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608 (table names from the literal tuple above)
    return counts


def stages(conn: Connection, moment: datetime) -> dict[str, float]:
    """The reads and the rules of `duty_checks`, one by one: seconds each."""
    zone = TOWN_TIMEZONE
    at_s = moment.timestamp()
    window = (
        datetime.fromtimestamp(at_s - reads.PEOPLE_WINDOW_S, zone),
        datetime.fromtimestamp(at_s + reads.PEOPLE_WINDOW_S, zone),
    )
    ahead = (
        datetime.fromtimestamp(rules.hour_start(at_s), zone),
        datetime.fromtimestamp(at_s + rules.DAY_S + 3600, zone),
    )
    out: dict[str, float] = {}
    got: dict[str, Any] = {}

    def step(name: str, func: Callable[[], Any]) -> None:
        started = time.perf_counter()
        got[name] = func()
        out[name] = time.perf_counter() - started

    step("read checkpoints", lambda: reads.checkpoint_frame(conn, moment))
    step("read shifts", lambda: reads.shift_frame(conn, *ahead))
    step("read people on shifts", lambda: reads.assignment_frame(conn, *window))
    step("read village entrances", lambda: reads._village_entrances(conn, moment))
    step("read teams", lambda: reads._teams(conn, moment))
    step("read grids", lambda: reads._grids(conn, moment))
    limit = float(setting(conn, "hours_limit_per_person"))
    step(
        "rule checkpoint_understaffed",
        lambda: rules.checkpoints_understaffed(got["read checkpoints"], got["read shifts"], at_s),
    )
    step("rule shift_overlap", lambda: rules.shift_overlaps(got["read people on shifts"]))
    step(
        "rule hours_over_limit",
        lambda: rules.hours_over_limit(got["read people on shifts"], limit),
    )
    return out


def cold_child(moment: str) -> None:
    """`duty_checks` once in this fresh process, on the database of WANGGE_ADMIN_DATABASE_URL:
    prints its seconds."""
    started = time.perf_counter()
    engine = db.make_engine(os.environ["WANGGE_ADMIN_DATABASE_URL"])
    with engine.connect() as conn:
        duty_checks(conn, datetime.fromisoformat(moment), limit=ITEM_LIMIT)
    print(time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cold-child", metavar="MOMENT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_child:
        cold_child(args.cold_child)
        return
    cluster, name, owner, spec = county(args.seed)
    moment = datetime.combine(spec.reference_date, clock(0, 30), tzinfo=TOWN_TIMEZONE)
    url = cluster.url(role=OWNER_ROLE, database=name).render_as_string(hide_password=False)
    env = {**os.environ, "WANGGE_DATABASE_URL": url, "WANGGE_ADMIN_DATABASE_URL": url}
    command = [str(WANGGE), "check", "--at", moment.isoformat(), "--format", "json"]
    with owner.connect() as conn:
        counts = sizes(conn)
    print(f"county: {counts}; moment {moment.isoformat()}", file=sys.stderr)
    runs: list[dict[str, float]] = []
    found: dict[str, int] = {}
    cold = [sys.executable, __file__, "--cold-child", moment.isoformat()]
    for run in range(args.runs):
        owner.dispose()
        started = time.perf_counter()
        with owner.connect() as conn:
            report = duty_checks(conn, moment, limit=ITEM_LIMIT)
        rules_db = time.perf_counter() - started
        found = {key: report[key]["count"] for key in DUTY_CHECKS}
        with owner.connect() as conn:
            by_stage = stages(conn, moment)
            started = time.perf_counter()
            for check in CHECKS:
                run_check(conn, check)
            by_stage["topology checks"] = time.perf_counter() - started
        child = subprocess.run(cold, env=env, check=True, capture_output=True, text=True)
        fresh = float(child.stdout)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, check=True, capture_output=True)
        cli = time.perf_counter() - started
        cli_found = orjson.loads(done.stdout)["checks"]
        assert {key: cli_found[key]["count"] for key in DUTY_CHECKS} == found
        runs.append(
            {"duty_checks": rules_db, "duty_checks_fresh": fresh, "wangge_check": cli, **by_stage}
        )
        slowest = sorted(by_stage.items(), key=lambda kv: -kv[1])[:3]
        print(f"run {run + 1}: duty_checks {rules_db:.3f} s (fresh process {fresh:.3f} s), "
              f"wangge check {cli:.2f} s; "
              + ", ".join(f"{k} {v:.3f} s" for k, v in slowest))  # fmt: skip
    if args.profile:
        profile = cProfile.Profile()
        with owner.connect() as conn:
            profile.runcall(duty_checks, conn, moment, limit=ITEM_LIMIT)
        text_out = io.StringIO()
        pstats.Stats(profile, stream=text_out).sort_stats("cumulative").print_stats(25)
        print(text_out.getvalue(), file=sys.stderr)
    owner.dispose()
    medians = {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}
    print(
        orjson.dumps(
            {
                "machine": {**measure.machine(), "postgis": cluster.postgis_version()},
                "county": counts,
                "moment": moment.isoformat(),
                "items": found,
                "runs_s": {
                    "duty_checks": [round(r["duty_checks"], 3) for r in runs],
                    "duty_checks_fresh": [round(r["duty_checks_fresh"], 3) for r in runs],
                    "wangge_check": [round(r["wangge_check"], 3) for r in runs],
                },
                "median_s": medians,
            },
            option=orjson.OPT_INDENT_2,
        ).decode()
    )


if __name__ == "__main__":
    main()
