"""Time stock per holder and item as of a day on a county's ledger: 200 holders, 50 items,
1,000,000 entries (receipts, transfers, uses) over a year.

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/supplies_stock.py --runs 5

Makes (once; `--rebuild` to make it again) the database `wangge_bench_supplies_<entries>` in
the machine's cluster, migrated to head: the town store and 199 holders (checkpoint holders
registered directly, as `wangge supplies` registers a checkpoint when first named), the five
kit items and 45 more, and the entries written by one INSERT ... SELECT (their stock is not
checked: what is timed is the read). Then times `geodata.records.supplies_stock.stock` as of
several days (median of `--runs` each, after one warm-up), one holder's stock, and posting a
backdated use through `geodata.records.supplies_ledger.post` (its check reads the holder and
item's days), each in a transaction rolled back, and the check that every month total
equals the sum of its entries (`wangge supplies verify`) once, and an import of a
`ledger-entries` CSV of `--import-rows` rows (half receipts into the town store, half
transfers out of it: every transfer checked against the store's days), rolled back. Prints
JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, text

from geodata import db
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.imports.ledger_entries import import_ledger
from geodata.records.supplies_ledger import Entry, post
from geodata.records.supplies_stock import stock, verify_totals
from geodata.settings import Settings
from geodata.town_time import TOWN_TIMEZONE

FIRST_DAY = date(2026, 1, 1)
DAYS = 365


def _load(conn: Connection, entries: int, holders: int, items: int) -> None:
    conn.execute(
        text(
            "INSERT INTO supply_holders (source_id, kind, ref_id)"
            " SELECT 'bench:cp/' || n, 'checkpoint', n FROM generate_series(1, :h) AS n"
        ),
        {"h": holders - 1},
    )
    conn.execute(
        text(
            "INSERT INTO supply_items (code, name, unit) SELECT 'bench_item_' || n,"
            " 'item ' || n, 'piece' FROM generate_series(1, :i) AS n"
        ),
        {"i": items - 5},
    )
    conn.execute(text("SELECT setseed(0.18)"))
    conn.execute(
        text(
            """
            INSERT INTO ledger_entries (source_id, kind, item_id, quantity, from_holder_id,
                to_holder_id, at, day, donor, posted_by)
            SELECT 'bench:' || n, kind, item, 1 + (random() * 99)::int,
                CASE WHEN kind = 'receipt' THEN NULL ELSE a END,
                CASE WHEN kind = 'use' THEN NULL ELSE 1 + (a - 1 + off) % :holders END,
                at, (at AT TIME ZONE 'Asia/Shanghai')::date,
                CASE WHEN kind = 'receipt' AND n % 3 = 0 THEN 'donor ' || (n % 97) END, 'bench'
            FROM (
                SELECT n,
                    CASE WHEN r < 0.2 THEN 'receipt' WHEN r < 0.7 THEN 'transfer' ELSE 'use' END
                        AS kind,
                    (SELECT min(id) FROM supply_items) + (random() * (:items - 1))::int AS item,
                    1 + (random() * (:holders - 1))::int AS a,
                    1 + (random() * (:holders - 2))::int AS off,
                    timestamptz '2026-01-01 00:00+08' + random() * interval '365 days' AS at
                FROM (SELECT n, random() AS r FROM generate_series(1, :n) AS n) AS s
            ) AS g
            """
        ),
        {"n": entries, "items": items, "holders": holders},
    )


def _import_file(path: Path, rows: int, holders: int) -> None:
    """Half receipts into the town store, half transfers from it, in January 2027."""
    lines = ["source_id,kind,item,quantity,from_holder,to_holder,at,donor,reverses"]
    for n in range(rows):
        at = f"2027-01-{1 + n % 28:02d}T{8 + n % 2:02d}:00:00+08:00"
        if n % 2 == 0:
            lines.append(f"imp-{n},receipt,mask,{50 + n % 50},,town-store,{at},Acme,")
        else:
            to = f"bench:cp/{1 + n % (holders - 1)}"
            lines.append(f"imp-{n},transfer,mask,{1 + n % 40},town-store,{to},{at},,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _timed(runs: int, work: object) -> tuple[float, list[float]]:
    assert callable(work)
    work()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--holders", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--import-rows", type=int, default=2000, help="0: no import timed")
    args = parser.parse_args()
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    name = f"wangge_bench_supplies_{args.entries}"
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=name))
    load_s = None
    if args.rebuild:
        cluster.drop_database(name)
    cluster.ensure_database(name)
    migrate.upgrade(owner, app_role=APP_ROLE)
    with owner.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
    if have == 0:
        started = time.perf_counter()
        with owner.begin() as conn:
            _load(conn, args.entries, args.holders, args.items)
        with owner.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE ledger_entries")
            )
        load_s = round(time.perf_counter() - started, 1)
    result: dict[str, object] = {"database": name, "load_s": load_s}
    with owner.connect() as conn:
        result["entries"] = conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
        result["holders"] = conn.execute(text("SELECT count(*) FROM supply_holders")).scalar_one()
        result["items"] = conn.execute(text("SELECT count(*) FROM supply_items")).scalar_one()
        for label, offset in (("as_of_day_90", 90), ("as_of_day_180", 180), ("as_of_last", 364)):
            day = FIRST_DAY + timedelta(days=offset)
            median, runs = _timed(args.runs, lambda d=day: stock(conn, d))
            pairs = len(stock(conn, day))
            result[label] = {"median_s": round(median, 3), "runs_s": [round(t, 3) for t in runs],
                             "pairs": pairs}  # fmt: skip
        last = FIRST_DAY + timedelta(days=364)
        median, runs = _timed(args.runs, lambda: stock(conn, last, holder_source_id="bench:cp/7"))
        result["one_holder"] = {"median_s": round(median, 3), "runs_s": [round(t, 3) for t in runs]}

        def backdated_receipt_and_use() -> None:
            with conn.begin_nested() as nested:
                at = datetime(2026, 3, 1, 9, 0, tzinfo=TOWN_TIMEZONE)
                post(conn, Entry(source_id="bench:new-r", kind="receipt", item="mask",
                                 quantity=1_000_000, to_holder="bench:cp/9", at=at),
                     posted_by="bench")  # fmt: skip
                post(conn, Entry(source_id="bench:new-u", kind="use", item="mask", quantity=5,
                                 from_holder="bench:cp/9", at=at), posted_by="bench")  # fmt: skip
                nested.rollback()

        started = time.perf_counter()
        drifted = verify_totals(conn)
        result["verify_totals"] = {"s": round(time.perf_counter() - started, 2),
                                   "mismatches": len(drifted)}  # fmt: skip
        conn.rollback()
        with conn.begin():
            median, runs = _timed(args.runs, backdated_receipt_and_use)
        result["post_receipt_and_backdated_use"] = {
            "median_s": round(median, 3), "runs_s": [round(t, 3) for t in runs]
        }  # fmt: skip
        if args.import_rows:
            with tempfile.TemporaryDirectory() as work:
                path = Path(work) / "ledger.csv"
                _import_file(path, args.import_rows, args.holders)
                started = time.perf_counter()
                with conn.begin_nested() as nested:
                    report = import_ledger(conn, path, actor="bench")
                    nested.rollback()
                result["import_ledger_entries"] = {
                    "rows": args.import_rows, "s": round(time.perf_counter() - started, 1),
                    "inserted": report.inserted, "errors": len(report.errors),
                }  # fmt: skip
    owner.dispose()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
