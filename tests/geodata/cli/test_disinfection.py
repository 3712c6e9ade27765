"""`wangge disinfection` on a committed town: the overdue contract, a round in the future
refused (exit 1), a grid worker of another village refused, compliance of a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from geodata.cli import main
from tests import factories as f
from tests.conftest import TestDatabase, make_account


def invoke(db: TestDatabase, *args: str, user: str = "") -> Result:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
        "WANGGE_USER": user,
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def db(throwaway_db: TestDatabase) -> TestDatabase:
    with throwaway_db.owner.begin() as c:
        one = f.village(c, "V1", f.square(0, 0, 1, 1))
        two = f.village(c, "V2", f.square(1, 0, 2, 1))
        f.grid(c, one, "G1", f.square(0, 0, 1, 1))
        f.grid(c, two, "G2", f.square(1, 0, 2, 1))
    return throwaway_db


def test_places_rounds_overdue_and_compliance(db: TestDatabase) -> None:
    added = invoke(db, "disinfection", "places", "add", "mkt-1", "--name", "Market",
                   "--kind", "market", "--rounds", "3", "--village", "V1", "--lon", "0.5",
                   "--lat", "0.5")  # fmt: skip
    assert added.exit_code == 0, added.output
    invoke(db, "disinfection", "places", "add", "wc-1", "--name", "Toilet", "--kind", "toilet",
           "--rounds", "2", "--village", "V2")  # fmt: skip
    with db.owner.begin() as c:
        c.execute(text("UPDATE disinfection_places SET created_at = '2026-04-01T00:00+08:00'"))
    done = invoke(db, "disinfection", "round", "mkt-1", "--agent", "84 disinfectant",
                  "--at", "2026-04-02T08:00+08:00")  # fmt: skip
    assert done.exit_code == 0, done.output
    ahead = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    future = invoke(db, "disinfection", "round", "mkt-1", "--agent", "x", "--at", ahead)
    assert future.exit_code == 1
    assert "at: " in future.output
    assert "is in the future" in future.output
    at = "2026-04-02T16:31:00+08:00"  # 8 h + 30 min after the market's round, and a minute
    got = orjson.loads(invoke(db, "disinfection", "overdue", "--at", at, "--format", "json").stdout)
    assert got["overdue"] == [
        {"place": "wc-1", "last_round_at": None, "due_at": "2026-04-01T12:30:00+08:00"},
        {"place": "mkt-1", "last_round_at": "2026-04-02T08:00:00+08:00",
         "due_at": "2026-04-02T16:30:00+08:00"},
    ]  # fmt: skip
    day = orjson.loads(
        invoke(db, "disinfection", "compliance", "--day", "2026-04-02", "--format", "json").stdout
    )
    market = next(p for p in day["places"] if p["place"] == "mkt-1")
    assert (market["rounds"], market["required"], market["compliant"]) == (1, 3, False)
    # overdue from 00:00 (the creation's 08:30 passed on 1 April) to 08:00, then from 16:30
    assert market["overdue_minutes"] == 8 * 60 + 7 * 60 + 30


def test_a_grid_worker_logs_rounds_of_their_village_only(db: TestDatabase) -> None:
    make_account(db, "dz-li", "grid_worker", grid_codes=("G1",))
    invoke(db, "disinfection", "places", "add", "st-1", "--name", "Bus station",
           "--kind", "station", "--rounds", "2", "--village", "V1")  # fmt: skip
    invoke(db, "disinfection", "places", "add", "st-2", "--name", "Bus station 2",
           "--kind", "station", "--rounds", "2", "--village", "V2")  # fmt: skip
    own = invoke(db, "disinfection", "round", "st-1", "--agent", "chlorine", user="dz-li")
    assert own.exit_code == 0, own.output
    other = invoke(db, "disinfection", "round", "st-2", "--agent", "chlorine", user="dz-li")
    assert other.exit_code == 1
    assert "'st-2': not found" in other.output
    make_account(db, "dz-wang", "commander", village_codes=("V2",))
    seen = orjson.loads(
        invoke(db, "disinfection", "overdue", "--format", "json", user="dz-wang").stdout
    )
    assert seen["overdue"]
    assert {o["place"] for o in seen["overdue"]} <= {"wc-1", "st-2", "im-2"}
    place = invoke(db, "disinfection", "places", "add", "st-3", "--name", "X", "--kind",
                   "station", "--rounds", "2", user="dz-li")  # fmt: skip
    assert place.exit_code == 3


def test_import_places_and_rounds_all_or_nothing_and_round_trip(
    db: TestDatabase, tmp_path: Path
) -> None:
    places = tmp_path / "places.csv"
    places.write_text(
        "source_id,name,kind,rounds_per_day,village,checkpoint,lon,lat\n"
        "im-1,Market A,market,3,V1,,0.2,0.2\n"
        "im-2,Toilet B,toilet,2,V2,,,\n"
    )
    first = orjson.loads(
        invoke(db, "import", "disinfection-places", str(places), "--format", "json").stdout
    )
    assert (first["inserted"], first["errors"]) == (2, [])
    again = orjson.loads(
        invoke(db, "import", "disinfection-places", str(places), "--format", "json").stdout
    )
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    places.write_text(places.read_text().replace("Toilet B,toilet,2", "Toilet B,toilet,4"))
    changed = orjson.loads(
        invoke(db, "import", "disinfection-places", str(places), "--format", "json").stdout
    )
    assert (changed["updated"], changed["unchanged"]) == (1, 1)
    rounds = tmp_path / "rounds.csv"
    ahead = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    rounds.write_text(
        "source_id,place,at,by,agent\n"
        "r-1,im-1,2026-04-03T08:00:00+08:00,,chlorine\n"
        f"r-2,im-1,{ahead},,chlorine\n"
        "r-3,nowhere,2026-04-03T08:00:00+08:00,,chlorine\n"
        "r-4,im-2,2026-04-03T08:00:00+08:00,,\n"
    )
    with db.owner.connect() as c:
        before = c.execute(text("SELECT count(*) FROM disinfection_rounds")).scalar_one()
    refused = invoke(db, "import", "disinfection-rounds", str(rounds), "--format", "json")
    assert refused.exit_code == 1
    errors = [(e["line"], e["field"]) for e in orjson.loads(refused.stdout)["errors"]]
    assert errors == [(3, "at"), (4, "place"), (5, "agent")]
    with db.owner.connect() as c:
        assert c.execute(text("SELECT count(*) FROM disinfection_rounds")).scalar_one() == before
    rounds.write_text("source_id,place,at,by,agent\nr-1,im-1,2026-04-03T08:00:00+08:00,,chlorine\n")
    ok = orjson.loads(
        invoke(db, "import", "disinfection-rounds", str(rounds), "--format", "json").stdout
    )
    assert ok["inserted"] == 1
    rounds.write_text("source_id,place,at,by,agent\nr-1,im-1,2026-04-03T09:00:00+08:00,,chlorine\n")
    moved = invoke(db, "import", "disinfection-rounds", str(rounds), "--format", "json")
    assert moved.exit_code == 1
    assert orjson.loads(moved.stdout)["errors"][0]["field"] == "at"
    for layer in ("disinfection-places", "disinfection-rounds"):
        out = tmp_path / f"{layer}.csv"
        assert invoke(db, "export", layer, "-o", str(out)).exit_code == 0
        back = orjson.loads(invoke(db, "import", layer, str(out), "--format", "json").stdout)
        assert (back["inserted"], back["updated"], back["errors"]) == (0, 0, []), layer
