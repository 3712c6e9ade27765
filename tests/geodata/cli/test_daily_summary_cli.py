"""`wangge daily summary --date DAY [--pdf FILE] [--csv FILE] --format json` on the sample
town: a past day's summary issued, its CSV with the same town figures, its PDF written."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tests.conftest import TestDatabase
from tests.geodata.cli.test_accounts import invoke


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    return throwaway_sample_db


def test_summary_json_csv_and_pdf(town: TestDatabase, tmp_path: Path) -> None:
    day = (datetime.now() - timedelta(days=3)).date().isoformat()
    pdf, table = tmp_path / "s.pdf", tmp_path / "s.csv"
    done = invoke(town, "daily", "summary", "--date", day, "--pdf", str(pdf), "--csv",
                  str(table), "--format", "json")  # fmt: skip
    assert done.exit_code == 0, done.output
    body = orjson.loads(done.stdout)
    assert body["date"] == day
    assert body["frozen"] is True
    assert {"town", "villages", "series", "not_reported", "reporting"} <= set(body)
    assert pdf.read_bytes().startswith(b"%PDF")
    rows = list(csv.reader(table.read_text(encoding="utf-8").splitlines()))
    town_row = dict(zip(rows[0], rows[-1], strict=True))
    assert int(town_row["households"]) == body["town"]["households"]
    bad = invoke(town, "daily", "summary", "--date", "someday")
    assert bad.exit_code == 1
