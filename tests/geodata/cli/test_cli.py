"""The `wangge` command as people and scripts call it."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from geodata.cli import main
from geodata.models import Base
from geodata.records.duty_checks import DUTY_CHECKS
from geodata.records.topology import CHECKS
from tests.conftest import TestDatabase


def run(db: TestDatabase, *args: str) -> tuple[int, object]:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
    }
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    parsed = orjson.loads(result.stdout) if "--format" in args and result.exit_code == 0 else None
    return result.exit_code, parsed if parsed is not None else result.output


def test_stats_counts_every_table(throwaway_db: TestDatabase) -> None:
    code, stats = run(throwaway_db, "stats", "--format", "json")
    assert code == 0
    assert isinstance(stats, dict)
    assert set(stats) == set(Base.metadata.tables)
    assert all(isinstance(n, int) for n in stats.values())


def test_db_status_with_a_database_url(throwaway_db: TestDatabase) -> None:
    code, status = run(throwaway_db, "db", "status", "--format", "json")
    assert code == 0
    assert isinstance(status, dict)
    assert status["running"] is True
    assert str(status["postgis_version"]).startswith("3.")
    assert "***" in str(status["url"])
    assert status["data_dir"] is None


def test_db_status_of_the_embedded_cluster() -> None:
    result = CliRunner().invoke(main, ["db", "status", "--format", "json"])
    status = orjson.loads(result.stdout)
    assert result.exit_code == 0
    assert {"running", "url", "postgis_version", "data_dir"} <= set(status)
    assert status["running"] is True


def test_managing_an_external_server_is_refused(throwaway_db: TestDatabase) -> None:
    code, output = run(throwaway_db, "db", "down")
    assert code == 1
    assert "WANGGE_DATABASE_URL is set" in str(output)


def test_migrate_twice_is_harmless(throwaway_db: TestDatabase) -> None:
    assert run(throwaway_db, "db", "migrate")[0] == 0
    assert run(throwaway_db, "db", "migrate")[0] == 0


def test_check_on_the_sample_town_finds_exactly_the_planted_breaks(
    sample_db: TestDatabase,
) -> None:
    code, report = run(sample_db, "check", "--format", "json")
    assert code == 0
    assert isinstance(report, dict)
    counts = {name: c["count"] for name, c in report["checks"].items() if name in CHECKS}
    assert set(report["checks"]) == set(CHECKS) | set(DUTY_CHECKS)
    assert counts == {
        "grid_overlaps": 0,
        "grid_gaps": 0,
        "grids_outside_village": 0,
        "buildings_outside_grids": 0,
        "entrances_off_boundary": 1,
        "households_without_building": 0,
        "compounds_without_open_entrance": 2,
        "compounds_with_several_open_entrances": 2,
    }


def test_sample_town_figures(sample_db: TestDatabase) -> None:
    code, stats = run(sample_db, "stats", "--format", "json")
    assert code == 0
    assert isinstance(stats, dict)
    assert stats["villages"] == 11
    assert 3_600 <= stats["buildings"] <= 3_800
    assert stats["households"] > 5_000
    assert stats["isolation_sites"] == 1
    assert stats["patrol_zones"] == 22


def test_check_at_a_moment(sample_db: TestDatabase) -> None:
    code, report = run(sample_db, "check", "--at", "2026-02-01T08:30+08:00", "--format", "json")
    assert code == 0
    assert isinstance(report, dict)
    assert report["at"] == "2026-02-01T08:30:00+08:00"
    for name in DUTY_CHECKS:
        assert all(i["hour"].startswith("2026-0") for i in report["checks"][name]["items"])
    assert run(sample_db, "check", "--at", "yesterday-ish")[0] == 2
