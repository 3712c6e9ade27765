"""`wangge staff|teams|shifts` on the sample town: by source id, audited, refusals by name."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import text

from tests.conftest import TestDatabase, make_account
from tests.geodata.cli.test_accounts import invoke


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    return throwaway_sample_db


def _checkpoint(db: TestDatabase) -> tuple[str, str, str]:
    """A checkpoint of a village, one person a shift (its source id, the village's code,
    another village's)."""
    with db.owner.begin() as conn:
        cp, village = conn.execute(
            text("UPDATE checkpoints c SET staff_per_shift = 1 FROM villages v WHERE "
                 "c.id = (SELECT min(id) FROM checkpoints WHERE village_id IS NOT NULL) "
                 "AND v.id = c.village_id RETURNING c.source_id, v.code")
        ).one()  # fmt: skip
        other = conn.execute(
            text("SELECT code FROM villages WHERE code <> :v LIMIT 1"), {"v": village}
        ).scalar_one()
    return str(cp), str(village), str(other)


def test_staff_teams_and_a_rota(town: TestDatabase) -> None:
    cp, village, other = _checkpoint(town)
    ok = invoke(town, "teams", "add", "t:unit", "--name", "Unit", "--kind", "checkpoint",
                "--village", village)  # fmt: skip
    assert ok.exit_code == 0, ok.output
    for i in range(1, 5):
        done = invoke(town, "staff", "add", f"t:p{i}", "--name", f"P{i}", "--role",
                      "checkpoint_staff", "--village", village, "--team", "t:unit")  # fmt: skip
        assert done.exit_code == 0, done.output
    outside = invoke(town, "staff", "add", "t:far", "--name", "Far", "--role", "patrol",
                     "--village", other, "--team", "t:unit")  # fmt: skip
    assert outside.exit_code == 1
    assert "staff 't:far': team: 't:unit' is in another village" in outside.stderr
    listed = orjson.loads(invoke(town, "staff", "list", "--village", village, "--format",
                                 "json").stdout)  # fmt: skip
    assert {"t:p1", "t:p4"} <= {p["source_id"] for p in listed}

    rota = ["shifts", "rota", "--checkpoint", cp, "--from", "2030-01-01", "--days", "2",
            "--staff", "t:p1,t:p2,t:p3,t:p4", "--format", "json"]  # fmt: skip
    first = invoke(town, *rota)
    assert first.exit_code == 0, first.output
    assert orjson.loads(first.stdout)["created"] == 6
    again = orjson.loads(invoke(town, *rota).stdout)
    assert (again["created"], again["unchanged"]) == (0, 6)
    short = invoke(town, *[a if a != "t:p1,t:p2,t:p3,t:p4" else "t:p1,t:p2" for a in rota])
    assert short.exit_code == 1
    assert "needs 1 person(s)" in short.stderr

    overlap = invoke(town, "shifts", "add", "t:extra", "--checkpoint", cp,
                     "--starts", "2030-01-01T04:00", "--ends", "2030-01-01T12:00")  # fmt: skip
    assert overlap.exit_code == 0, overlap.output
    clash = invoke(town, "shifts", "assign", "t:extra", "t:p1")
    assert clash.exit_code == 1
    assert "staff 't:p1': on shift 'rota:" in clash.stderr
    assert "which overlaps shift 't:extra'" in clash.stderr
    too_long = invoke(town, "shifts", "add", "t:long", "--checkpoint", cp,
                      "--starts", "2030-02-01T00:00", "--ends", "2030-02-02T01:00")  # fmt: skip
    assert too_long.exit_code == 1
    assert "more than 24 h" in too_long.stderr

    with town.owner.connect() as conn:
        actions: dict[str, int] = dict(
            conn.execute(
                text("SELECT action, count(*) FROM audit_events WHERE action IN "
                     "('staff_add', 'staff_list', 'team_add', 'shift_rota') GROUP BY action")
            ).all()
        )  # fmt: skip
    assert actions == {"staff_add": 4, "staff_list": 1, "team_add": 1, "shift_rota": 2}


def test_a_commander_manages_own_villages_only(town: TestDatabase) -> None:
    _, village, other = _checkpoint(town)
    make_account(town, "cmd-people", "commander", village_codes=(village,))
    add = ("staff", "add", "--name", "C", "--role", "checkpoint_staff", "--village")
    done = invoke(town, "--as", "cmd-people", *add[:2], "t:cmd1", *add[2:], village)
    assert done.exit_code == 0, done.output
    refused = invoke(town, "--as", "cmd-people", *add[:2], "t:cmd2", *add[2:], other)
    assert refused.exit_code != 0
    assert f"village {other!r}: no such village" in refused.output
    listed = invoke(town, "--as", "cmd-people", "staff", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert {r["village"] for r in orjson.loads(listed.output)} == {village}
    with town.owner.connect() as conn:
        kept = conn.execute(
            text("SELECT count(*) FROM staff WHERE source_id IN ('t:cmd1', 't:cmd2')")
        ).scalar()
    assert kept == 1


def test_a_planner_may_not_manage_people(town: TestDatabase) -> None:
    make_account(town, "gw-people", "planner")
    refused = invoke(town, "--as", "gw-people", "staff", "list")
    assert refused.exit_code == 3
    refused = invoke(town, "--as", "gw-people", "staff", "retire", "whoever")
    assert refused.exit_code == 3
