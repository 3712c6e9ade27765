"""Time a backup and a restore of one database of the machine's cluster: the recovery time
(restore into a new cluster) and what a backup costs (its time and size).

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/backup_restore.py --database wangge
    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/backup_restore.py \\
        --database wangge_bench_tiles_1000000_1

Runs `wangge db backup -o FILE` against the database (its owner role), then
`wangge db restore FILE --into DIR` into a new cluster under a temporary directory, and checks
the restored row counts; the backup file and the new cluster are removed afterwards. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.settings import Settings

WANGGE = Path(sys.executable).parent / "wangge"


def _wangge(env: dict[str, str], *args: str) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(WANGGE), *args, "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"wangge {' '.join(args)} failed: {done.stderr.strip()}")
    found: dict[str, object] = json.loads(done.stdout)
    return elapsed, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="wangge")
    args = parser.parse_args()
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    source = {
        **os.environ,
        "WANGGE_HOME": str(cluster.home),
        "WANGGE_DATABASE_URL": cluster.url(role=APP_ROLE, database=args.database).render_as_string(
            hide_password=False
        ),
        "WANGGE_ADMIN_DATABASE_URL": cluster.url(
            role=OWNER_ROLE, database=args.database
        ).render_as_string(hide_password=False),
    }
    work = Path(tempfile.mkdtemp(prefix="wangge-backup-bench-"))
    work.chmod(0o755)
    target = work / "restored"
    try:
        backup_s, made = _wangge(source, "db", "backup", "-o", str(work / "backup.wangge"))
        restore_env = {**os.environ, "WANGGE_HOME": str(target)}
        restore_env.pop("WANGGE_DATABASE_URL", None)
        restore_env.pop("WANGGE_ADMIN_DATABASE_URL", None)
        restore_s, restored = _wangge(
            restore_env, "db", "restore", str(work / "backup.wangge"), "--into", str(target)
        )
        print(
            json.dumps(
                {
                    "database": args.database,
                    "rows": made["rows"],
                    "backup_bytes": made["size_bytes"],
                    "backup_s": round(backup_s, 1),
                    "restore_s": round(restore_s, 1),
                    "counts_match": restored["counts_match"],
                }
            )
        )
    finally:
        LocalCluster(target).down(mode="immediate")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
