"""An import killed in the middle of its transaction (SIGKILL, no clean-up of its own) leaves
the tables as they were, and a re-run succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import orjson
from sqlalchemy import text

from geodata.db.stats import table_counts
from tests.conftest import TestDatabase
from tests.geodata.imports.support import feature, polygon, square, write_geojson
from tests.served import WANGGE, serve_env

BUILDINGS = 60_000


def _buildings() -> list[dict[str, object]]:
    return [
        feature(
            polygon(square(9.50 + (i % 300) * 0.0003, 47.10 + (i // 300) * 0.0003)),
            source_id=f"k{i}",
            floors=2,
        )
        for i in range(BUILDINGS)
    ]


def _in_transaction(database: TestDatabase) -> bool:
    """Whether the import's session is inside its transaction (past reading the file)."""
    with database.owner.connect() as c:
        found = c.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                "AND application_name NOT LIKE 'pytest%'"
            )
        ).scalar_one()
    return bool(found)


def _sessions_gone(database: TestDatabase, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _in_transaction(database):
        time.sleep(0.1)


def test_a_killed_import_changes_nothing_and_a_rerun_succeeds(
    own_db: TestDatabase, tmp_path: Path
) -> None:
    path = write_geojson(tmp_path, _buildings(), name="buildings")
    before = table_counts_of(own_db)
    command = [str(WANGGE), "import", "buildings", str(path), "--no-progress", "--format", "json"]
    process = subprocess.Popen(command, env=serve_env(own_db), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _in_transaction(own_db):
            assert process.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # well inside: staging or copying
        assert process.poll() is None, "the import ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    _sessions_gone(own_db)
    assert table_counts_of(own_db) == before
    rerun = subprocess.run(command, env=serve_env(own_db), capture_output=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert orjson.loads(rerun.stdout)["inserted"] == BUILDINGS
    with own_db.owner.connect() as c:
        assert c.execute(text("SELECT count(*) FROM buildings")).scalar_one() == BUILDINGS


def table_counts_of(database: TestDatabase) -> dict[str, int]:
    with database.owner.connect() as c:
        return table_counts(c)
