"""A write that fails mid-export (a full disk; here the file size limit of the process, which
fails `write` the same way) is a clear error and leaves nothing under the name asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TestDatabase
from tests.served import WANGGE, serve_env

LIMIT_BYTES = 64 * 1024


LIMITED = (
    "import os, resource, signal, sys\n"
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG\n"
    f"resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT_BYTES}, {LIMIT_BYTES}))\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)
"""Runs a command under a file size limit (no preexec_fn: the test process has threads)."""


def _export(
    database: TestDatabase, out: Path, *, limited: bool
) -> subprocess.CompletedProcess[str]:
    command = [str(WANGGE), "export", "buildings", "--format", "geojson", "-o", str(out)]
    if limited:
        command = [sys.executable, "-c", LIMITED, *command]
    return subprocess.run(
        command,
        env=serve_env(database),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize("older", [False, True])
def test_a_failed_write_leaves_nothing_under_the_name(
    throwaway_sample_db: TestDatabase, tmp_path: Path, older: bool
) -> None:
    out = tmp_path / "buildings.geojson"
    if older:
        out.write_text("an older export")
    done = _export(throwaway_sample_db, out, limited=True)
    assert done.returncode == 1, done.stderr
    assert "could not write buildings.geojson: File too large" in done.stderr
    assert "nothing was written under that name" in done.stderr
    assert "Traceback" not in done.stderr
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == (["buildings.geojson"] if older else [])
    if older:
        assert out.read_text() == "an older export"
    again = _export(throwaway_sample_db, out, limited=False)
    assert again.returncode == 0, again.stderr
    assert out.stat().st_size > LIMIT_BYTES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["buildings.geojson"]
