"""Time today's quarantine lists on a county: the checks due per window with the missed ones
per grid (`wangge quarantine due`), and the households due a visit for one grid worker.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/quarantine_due.py --runs 5

The county: 190,000 households in 900 grids (loaded on first use into
`wangge_bench_county_q<seed>` and kept), 10,000 people put in quarantine for the run (a
random start in the last 13 days, home or observation), about 1.5 checks each today; all
rolled back at the end. Beside it, the same missed counts from one SQL statement
(windows × quarantines by generate_series), which must agree. Prints every run and the
medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import measure
from sqlalchemy import Connection, text

from geodata.auth.access import Principal
from geodata.db.cluster import LocalCluster
from geodata.records import quarantines
from geodata.records.due_visits import due_today
from geodata.samples.synthetic import SyntheticSpec
from geodata.settings import Settings
from geodata.town_time import TOWN_TIMEZONE
from geodata.vocab import Role

PEOPLE = 10_000

MISSED_SQL = text(
    """
    WITH w AS (
        SELECT (CAST(:day AS date) + a)::timestamp AT TIME ZONE :zone AS opens,
               (CAST(:day AS date) + b)::timestamp AT TIME ZONE :zone AS closes
        FROM (VALUES (time '07:00', time '12:00'), (time '14:00', time '20:00')) AS v(a, b)
    )
    SELECT g.code, count(*) FROM quarantines q JOIN grids g ON g.id = q.grid_id JOIN w
      ON q.starts_at <= w.opens AND w.opens < coalesce(q.released_at, q.ends_at)
    WHERE w.closes <= :now AND NOT EXISTS (
        SELECT 1 FROM quarantine_checks c WHERE c.quarantine_id = q.id
        AND c.checked_at >= w.opens AND c.checked_at < w.closes)
    GROUP BY g.code
    """
)


def _seed(conn: Connection, day: datetime) -> None:
    conn.execute(
        text(
            "INSERT INTO quarantines (resident_id, grid_id, type, reason, starts_at, ends_at)"
            " SELECT r.id, h.grid_id, CASE WHEN random() < 0.8 THEN 'home' ELSE 'observation'"
            " END, 'fever', s.at, s.at + interval '14 days' FROM (SELECT id, household_id"
            " FROM residents ORDER BY random() LIMIT :n) r JOIN households h"
            " ON h.id = r.household_id CROSS JOIN LATERAL (SELECT :day - random() *"
            " interval '13 days' AS at) s"
        ),
        {"n": PEOPLE, "day": day},
    )
    conn.execute(
        text(
            "INSERT INTO quarantine_checks (quarantine_id, grid_id, checked_at, temperature_c)"
            " SELECT q.id, q.grid_id, :day + interval '7 hours' + random() * interval '13 hours',"
            " 36.5 FROM quarantines q CROSS JOIN generate_series(1, 2) k WHERE random() < 0.75"
        ),
        {"day": day},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    spec = SyntheticSpec.from_counts(households=190_000, grids=900, checkpoints=2_000,
                                     seed=args.seed)  # fmt: skip
    owner, _ = measure.open_synthetic_town(cluster, spec, f"wangge_bench_county_q{args.seed}")
    now = datetime.now(UTC)
    day = now.astimezone(TOWN_TIMEZONE).date()
    midnight = datetime.combine(day, datetime.min.time(), TOWN_TIMEZONE)
    late = midnight + timedelta(hours=23)  # every window of the day has closed
    with owner.connect() as conn, conn.begin() as outer:
        _seed(conn, midnight)
        conn.execute(text("ANALYZE quarantines; ANALYZE quarantine_checks"))
        grid = conn.execute(
            text("SELECT grid_id FROM quarantines GROUP BY grid_id ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
        worker = Principal(name="bench", role=Role.GRID_WORKER, grid_ids=frozenset({grid}))
        due_s, sql_s, visit_s = [], [], []
        for run in range(args.runs):
            t0 = time.perf_counter()
            report = quarantines.due(conn, day, late)
            due_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            asked = {"day": day, "zone": TOWN_TIMEZONE.key, "now": late}
            by_sql: dict[str, int] = dict(conn.execute(MISSED_SQL, asked).all())  # fmt: skip
            sql_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with conn.begin_nested() as inner:
                rows = due_today(conn, worker, day=day, limit=5000)
                inner.rollback()
            visit_s.append(time.perf_counter() - t0)
            assert report["missed_by_grid"] == by_sql, "the two missed counts disagree"
            print(f"run {run + 1}: due {due_s[-1]:.3f} s ({len(report['checks'])} checks,"
                  f" {sum(by_sql.values())} missed), one SQL {sql_s[-1]:.3f} s,"
                  f" a grid's visits due {visit_s[-1]:.3f} s ({len(rows)} households)")  # fmt: skip
        outer.rollback()
    print(f"median: due {statistics.median(due_s):.3f} s, one SQL {statistics.median(sql_s):.3f} s,"
          f" visits due {statistics.median(visit_s):.3f} s", file=sys.stdout)  # fmt: skip


if __name__ == "__main__":
    main()
