"""Shifts on patrol zones from the command line on the sample town: the A/B rota of a night
zone, one shift added, refusals that name the reason and change nothing, and the two
`wangge check` rules about patrols (a zone with nobody on a shift in its period; a zone whose
stored route needs more hours than its shifts give)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import text

from tests.conftest import TestDatabase
from tests.geodata.cli.test_accounts import invoke

TOWN = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    return throwaway_sample_db


@pytest.fixture(scope="module")
def night_zone(town: TestDatabase) -> tuple[str, str, str, str]:
    """A village's night zone and day zone, the village's code and another village's, with
    four patrols of the village (t:a1, t:a2, t:b1, t:b2) and one of the other (t:far)."""
    with town.owner.connect() as conn:
        zone, day_zone, village = conn.execute(
            text(
                "SELECT z.source_id, d.source_id, v.code FROM patrol_zones z"
                " JOIN villages v ON v.id = z.village_id JOIN patrol_zones d"
                " ON d.village_id = z.village_id AND d.period = 'day'"
                " WHERE z.period = 'night' ORDER BY z.id LIMIT 1"
            )
        ).one()
        other = conn.execute(
            text("SELECT code FROM villages WHERE code <> :v ORDER BY code LIMIT 1"),
            {"v": village},
        ).scalar_one()
    for village_code, team in ((village, "t:patrol"), (other, "t:far-patrol")):
        made = invoke(town, "teams", "add", team, "--name", team, "--kind", "patrol",
                      "--village", village_code)  # fmt: skip
        assert made.exit_code == 0, made.output
    for person, village_code, team in [
        ("t:a1", village, "t:patrol"), ("t:a2", village, "t:patrol"),
        ("t:b1", village, "t:patrol"), ("t:b2", village, "t:patrol"),
        ("t:far", other, "t:far-patrol"),
    ]:  # fmt: skip
        done = invoke(town, "staff", "add", person, "--name", person, "--role", "patrol",
                      "--village", village_code, "--team", team)  # fmt: skip
        assert done.exit_code == 0, done.output
    return str(zone), str(day_zone), str(village), str(other)


def _zone_shifts(town: TestDatabase, zone: str) -> list[tuple[datetime, datetime, list[str]]]:
    with town.owner.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.starts_at, s.ends_at, array(SELECT st.source_id FROM shift_staff p"
                " JOIN staff st ON st.id = p.staff_id WHERE p.shift_id = s.id"
                " ORDER BY st.source_id) FROM checkpoint_shifts s JOIN patrol_zones z"
                " ON z.id = s.patrol_zone_id WHERE z.source_id = :z AND s.starts_at >= :f"
                " ORDER BY s.starts_at"
            ),
            {"z": zone, "f": datetime(2030, 1, 1, tzinfo=TOWN)},
        ).all()
    return [(a.astimezone(TOWN), b.astimezone(TOWN), list(p)) for a, b, p in rows]


def test_a_night_rota_puts_groups_a_and_b_on_duty_in_turn(
    town: TestDatabase, night_zone: tuple[str, str, str, str]
) -> None:
    zone = night_zone[0]
    rota = ["shifts", "rota", "--zone", zone, "--from", "2030-01-01", "--days", "4",
            "--staff", "t:a1,t:a2", "--staff-b", "t:b1,t:b2", "--format", "json"]  # fmt: skip
    first = invoke(town, *rota)
    assert first.exit_code == 0, first.output
    report = orjson.loads(first.stdout)
    assert (report["zone"], report["period"], report["created"]) == (zone, "night", 4)
    assert report["assignments"] == 8
    shifts = _zone_shifts(town, zone)
    assert [(a.day, a.hour, b.day, b.hour) for a, b, _ in shifts] == [
        (d, 18, d + 1, 6) for d in range(1, 5)
    ]
    assert [p for _, _, p in shifts] == [["t:a1", "t:a2"], ["t:b1", "t:b2"]] * 2
    again = orjson.loads(invoke(town, *rota).stdout)
    assert (again["created"], again["unchanged"], again["assignments"]) == (0, 4, 0)
    listed = orjson.loads(
        invoke(town, "shifts", "list", "--from", "2030-01-01T00:00", "--to",
               "2030-01-06T00:00", "--format", "json").stdout
    )  # fmt: skip
    assert {s["zone"] for s in listed} == {zone}


def test_refusals_name_the_reason_and_change_nothing(
    town: TestDatabase, night_zone: tuple[str, str, str, str]
) -> None:
    zone, day_zone, _, _ = night_zone
    before = _zone_shifts(town, day_zone)
    cases = [
        (["--zone", "no-such-zone", "--staff", "t:a1"], "unknown patrol zone"),
        (["--zone", day_zone, "--staff", "t:far"], "not the village of patrol zone"),
        # the night of 1 January (A's) and the day after it: 24 hours running
        (["--zone", day_zone, "--staff", "t:a1"], "cannot take the shift"),
        (["--zone", day_zone, "--staff", "t:b1,t:b1"], "listed twice"),
        (["--zone", zone, "--checkpoint", "x", "--staff", "t:b1"], "--checkpoint or --zone"),
    ]
    for args, reason in cases:
        refused = invoke(town, "shifts", "rota", "--from", "2030-01-02", "--days", "1", *args)
        assert refused.exit_code == 1, refused.output
        assert reason in refused.stderr, refused.stderr
    both = invoke(town, "shifts", "add", "t:both", "--zone", zone, "--checkpoint", "x",
                  "--starts", "2030-03-01T08:00", "--ends", "2030-03-01T12:00")  # fmt: skip
    assert both.exit_code == 1
    assert "a checkpoint or a patrol zone" in both.stderr
    assert _zone_shifts(town, day_zone) == before

    added = invoke(town, "shifts", "add", "t:extra", "--zone", day_zone,
                   "--starts", "2030-03-01T08:00", "--ends", "2030-03-01T12:00")  # fmt: skip
    assert added.exit_code == 0, added.output
    put_on = invoke(town, "shifts", "assign", "t:extra", "t:b1")
    assert put_on.exit_code == 0, put_on.output
    outsider = invoke(town, "shifts", "assign", "t:extra", "t:far")
    assert outsider.exit_code == 1
    assert f"not the village of patrol zone {day_zone!r}" in outsider.stderr


def test_check_names_zones_without_a_shift_and_routes_over_their_hours(
    town: TestDatabase, night_zone: tuple[str, str, str, str]
) -> None:
    zone = night_zone[0]
    with town.owner.begin() as conn:
        zones = conn.execute(
            text("SELECT count(*) FROM patrol_zones WHERE retired_at IS NULL")
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO patrol_routes (zone, period, station, route_m, street_m, hours,"
                " created_by) VALUES (:z, 'night', 'test', 80000, 60000, 20, 'test')"
            ),
            {"z": zone},
        )
    # 02:00 on 2 January belongs to the duty day of 1 January: A's night
    done = invoke(town, "check", "--at", "2030-01-02T02:00+08:00", "--format", "json")
    assert done.exit_code in (0, 1), done.output
    checks = orjson.loads(done.stdout)["checks"]
    without = checks["patrol_zone_without_shift"]
    assert without["count"] == zones - 1  # the sample's own shifts are of other days
    assert zone not in {i["zone"] for i in without["items"]}
    (over,) = checks["patrol_team_over_hours"]["items"]
    assert (over["zone"], over["route_hours"], over["shift_hours"]) == (zone, 20.0, 12.0)
    assert over["hour"].startswith("2030-01-01T18:00:00+08:00")


def test_shifts_import_and_export_with_their_patrol_zone(
    town: TestDatabase, night_zone: tuple[str, str, str, str], tmp_path: Path
) -> None:
    """A shifts file names a checkpoint or a patrol zone: a row with neither is refused by
    line and nothing is written; a zone's shift is imported and exported with its zone."""
    day_zone = night_zone[1]
    header = "source_id,checkpoint_source_id,patrol_zone_source_id,starts_at,ends_at"
    first = f"t:imp1,,{day_zone},2030-04-01T06:00+08:00,2030-04-01T18:00+08:00"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{header}\n{first}\nt:imp2,,,2030-04-02T06:00+08:00,2030-04-02T18:00+08:00\n")
    before = _zone_shifts(town, day_zone)
    refused = invoke(town, "import", "shifts", str(bad), "--format", "json")
    assert refused.exit_code == 1, refused.output
    (error,) = orjson.loads(refused.stdout)["errors"]
    assert (error["line"], error["field"]) == (3, "checkpoint_source_id")
    assert "give the checkpoint or the patrol zone" in error["reason"]
    assert _zone_shifts(town, day_zone) == before
    good = tmp_path / "good.csv"
    good.write_text(f"{header}\n{first}\n")
    done = invoke(town, "import", "shifts", str(good))
    assert done.exit_code == 0, done.output
    (added,) = [s for s in _zone_shifts(town, day_zone) if s not in before]
    assert (added[0].month, added[0].day, added[0].hour, added[1].hour) == (4, 1, 6, 18)

    out = tmp_path / "shifts.csv"
    exported = invoke(town, "export", "shifts", "--format", "csv", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    (row,) = [line.split(",") for line in out.read_text().splitlines() if ",t:imp1," in line]
    assert row[3:5] == ["", day_zone]
