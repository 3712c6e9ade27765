"""`wangge supplies` and the `ledger-entries` layer on a committed town: the stock contract,
refusals that exit 1 naming the entry, field and reason, import all or nothing and
idempotent, the export that re-imports unchanged, and rights (exit 3)."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from geodata.auth.access import Principal
from geodata.cli import main
from geodata.records import people
from geodata.records.refusal import RecordRefused
from geodata.records.supplies_ledger import Entry, post
from geodata.services.supplies import post_entries
from geodata.town_time import TOWN_TIMEZONE
from geodata.vocab import Role, TeamKind
from tests import factories as f
from tests.conftest import TestDatabase, make_account

HEADER = "source_id,kind,item,quantity,from_holder,to_holder,at,donor,reverses\n"


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
        people.add_team(c, "cu1", name="Unit 1", kind=TeamKind.COMBAT_UNIT, village="V1")
        people.add_team(c, "cu2", name="Unit 2", kind=TeamKind.COMBAT_UNIT, village="V2")
    return throwaway_db


def _stock(db: TestDatabase, *args: str) -> list[dict[str, object]]:
    got = invoke(db, "supplies", "stock", *args, "--format", "json")
    assert got.exit_code == 0, got.output
    rows: list[dict[str, object]] = orjson.loads(got.stdout)["stock"]
    return rows


def _csv(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_post_refuse_reverse_and_the_stock_contract(db: TestDatabase) -> None:
    def put(*args: str) -> Result:
        return invoke(db, "supplies", "post", *args)

    ok = put("--id", "c-r1", "--kind", "receipt", "--item", "mask", "--quantity", "100",
             "--to", "town-store", "--donor", "Red Cross", "--at", "2026-01-10T09:00")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    moved = put("--id", "c-t1", "--kind", "transfer", "--item", "mask", "--quantity", "60",
                "--from", "town-store", "--to", "cu1", "--at", "2026-01-11T09:00")  # fmt: skip
    assert moved.exit_code == 0, moved.output
    refusals = [
        (("--quantity", "0", "--from", "cu1"), "'c-x': quantity: 0: must be more than 0"),
        (("--quantity", "61", "--from", "cu1"), "'c-x': quantity: 61 mask would leave cu1 with -1"),
        (("--quantity", "1", "--from", "nobody"), "'c-x': from_holder: 'nobody': no such holder"),
    ]
    for args, message in refusals:
        bad = put("--id", "c-x", "--kind", "use", "--item", "mask", "--at", "2026-01-12T09:00",
                  *args)  # fmt: skip
        assert bad.exit_code == 1, bad.output
        assert message in bad.output
    gloves = put("--id", "c-x", "--kind", "receipt", "--item", "gloves", "--quantity", "1",
                 "--to", "cu1", "--at", "2026-01-12T09:00+08:00")  # fmt: skip
    assert gloves.exit_code == 1
    assert "'c-x': item: 'gloves': no such item" in gloves.output
    # backdated before the transfer that gave cu1 its masks
    early = put("--id", "c-x", "--kind", "use", "--item", "mask", "--quantity", "1",
                "--from", "cu1", "--at", "2026-01-10T23:00+08:00")  # fmt: skip
    assert early.exit_code == 1
    assert "would leave cu1 with -1 on 2026-01-10" in early.output
    assert _stock(db, "--as-of", "2026-01-10") == [
        {"holder": "town-store", "item": "mask", "quantity": 100}
    ]
    assert _stock(db, "--as-of", "2026-01-10T23:30:00+08:00") == _stock(db, "--as-of", "2026-01-10")
    assert invoke(db, "supplies", "stock", "--as-of", "soon").exit_code == 2
    assert _stock(db, "--as-of", "2026-01-11", "--holder", "cu1") == [
        {"holder": "cu1", "item": "mask", "quantity": 60}
    ]
    # the store cannot take back a receipt whose masks went on
    back = invoke(db, "supplies", "reverse", "c-r1", "--reason", "wrong donor", "--id", "c-v1",
                  "--at", "2026-01-12T09:00+08:00")  # fmt: skip
    assert back.exit_code == 1
    assert "'c-v1': quantity: 100 mask would leave town-store with -60 on 2026-01-12" in back.output
    back = invoke(db, "supplies", "reverse", "c-t1", "--reason", "sent to the wrong unit",
                  "--id", "c-v2", "--at", "2026-01-12T09:00+08:00")  # fmt: skip
    assert back.exit_code == 0, back.output
    assert _stock(db, "--as-of", "2026-01-12") == [
        {"holder": "cu1", "item": "mask", "quantity": 0},
        {"holder": "town-store", "item": "mask", "quantity": 100},
    ]
    assert invoke(db, "supplies", "threshold", "cu1", "mask", "10").exit_code == 0
    low = orjson.loads(
        invoke(db, "supplies", "low", "--as-of", "2026-01-12", "--format", "json").stdout
    )
    assert [(r["holder"], r["item"], r["quantity"]) for r in low["low"]] == [("cu1", "mask", 0)]
    checked = invoke(db, "supplies", "verify", "--format", "json")
    assert checked.exit_code == 0, checked.output
    assert orjson.loads(checked.stdout) == {"ok": True, "mismatches": []}
    gifts = orjson.loads(invoke(db, "supplies", "donations", "--format", "json").stdout)
    [gift] = [g for g in gifts["donations"] if g["entry"] == "c-r1"]
    assert [(w["kind"], w["to"], w["quantity"]) for w in gift["went"]] == [("transfer", "cu1", 60)]


def test_rights_and_village_scope(db: TestDatabase) -> None:
    make_account(db, "sp-planner", "planner")
    make_account(db, "sp-wang", "commander", village_codes=("V1",))
    put = ("supplies", "post", "--kind", "receipt", "--item", "mask", "--quantity", "5",
           "--at", "2026-01-05T09:00+08:00")  # fmt: skip
    planner = invoke(db, *put, "--to", "cu1", user="sp-planner")
    assert planner.exit_code == 3
    outside = invoke(db, *put, "--to", "cu2", "--id", "s-1", user="sp-wang")
    assert outside.exit_code == 1
    assert "'s-1': to_holder: 'cu2': not a holder of your villages" in outside.output
    own = invoke(db, *put, "--to", "cu1", "--id", "s-2", user="sp-wang")
    assert own.exit_code == 0, own.output
    assert invoke(db, "supplies", "stock", "--format", "json", user="sp-planner").exit_code == 0
    assert invoke(db, "supplies", "low", "--format", "json", user="sp-planner").exit_code == 0
    assert invoke(db, "supplies", "donations", user="sp-planner").exit_code == 3
    assert invoke(db, "supplies", "threshold", "cu1", "mask", "5", user="sp-planner").exit_code == 3
    assert (
        invoke(db, "export", "ledger-entries", "-o", "/dev/null", user="sp-planner").exit_code == 3
    )
    store = invoke(db, "supplies", "threshold", "town-store", "mask", "5", user="sp-wang")
    assert store.exit_code == 1
    assert "threshold town-store/mask: holder: 'town-store': not a holder of your villages" in (
        store.output
    )
    with db.owner.connect() as c:
        audited = (
            c.execute(
                text("SELECT actor FROM audit_events WHERE action = 'ledger_post' ORDER BY id DESC")
            )
            .scalars()
            .first()
        )
    assert audited == "sp-wang"


def test_import_is_all_or_nothing_idempotent_and_round_trips(
    db: TestDatabase, tmp_path: Path
) -> None:
    # lines out of date order: posted by `at`, so the use after the receipt passes
    good = _csv(tmp_path, "ledger.csv",
        "i-u1,Use,thermometer,4.0,cu2,,2026-02-03T10:00:00+08:00,,\n"
        "i-r1,receipt,thermometer,10,,cu2,2026-02-01T10:00:00+08:00,Acme Ltd,\n"
        "i-v1,reversal,,,,,2026-02-04T10:00:00+08:00,,i-u1\n")  # fmt: skip
    first = invoke(db, "import", "ledger-entries", str(good), "--format", "json")
    assert first.exit_code == 0, first.output
    assert orjson.loads(first.stdout)["inserted"] == 3
    again = orjson.loads(
        invoke(db, "import", "ledger-entries", str(good), "--format", "json").stdout
    )
    assert (again["inserted"], again["unchanged"], again["errors"]) == (0, 3, [])
    assert _stock(db, "--as-of", "2026-02-03", "--holder", "cu2") == [
        {"holder": "cu2", "item": "thermometer", "quantity": 6}
    ]
    with db.owner.connect() as c:
        before = c.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
    bad = _csv(tmp_path, "bad.csv",
        "i-r1,receipt,thermometer,12,,cu2,2026-02-01T10:00:00+08:00,Acme Ltd,\n"
        "i-n1,receipt,thermometer,0,,cu2,2026-02-01T10:00:00+08:00,,\n"
        "i-n2,use,thermometer,50,cu2,,2026-02-05T10:00:00+08:00,,\n"
        "i-n3,receipt,soap,1,,cu2,2026-02-05T10:00:00+08:00,,\n"
        "i-n4,receipt,mask,1,,ghost,2026-02-05T10:00:00+08:00,,\n"
        "i-n5,receipt,mask,1,,cu2,2026-02-05T10:00:00,,\n"
        "i-n6,Receipt,mask,2.5,,cu2,2026-02-05T10:00:00+08:00,,\n"
        "i-ok,receipt,mask,1,,cu2,2026-02-05T10:00:00+08:00,,\n")  # fmt: skip
    refused = invoke(db, "import", "ledger-entries", str(bad), "--format", "json")
    assert refused.exit_code == 1
    errors = [(e["line"], e["field"]) for e in orjson.loads(refused.stdout)["errors"]]
    assert errors == [(7, "at"), (8, "quantity")]  # unreadable rows first: nothing posted yet
    bad.write_text(HEADER + "".join(bad.read_text().splitlines(keepends=True)[1:6])
                   + bad.read_text().splitlines(keepends=True)[8])  # fmt: skip
    refused = invoke(db, "import", "ledger-entries", str(bad), "--format", "json")
    assert refused.exit_code == 1
    report = orjson.loads(refused.stdout)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (2, "quantity"), (3, "quantity"), (4, "quantity"), (5, "item"), (6, "to_holder"),
    ]  # fmt: skip
    reasons = [e["reason"] for e in report["errors"]]
    assert "differs from the posted entry" in reasons[0]
    assert "must be more than 0" in reasons[1]
    assert "would leave cu2 with -40 on 2026-02-05" in reasons[2]
    with db.owner.connect() as c:
        assert c.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one() == before
    out = tmp_path / "out.csv"
    exported = invoke(db, "export", "ledger-entries", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    assert out.read_text().splitlines()[0] == HEADER.strip() + ",reason"
    back = orjson.loads(invoke(db, "import", "ledger-entries", str(out), "--format", "json").stdout)
    assert (back["inserted"], back["unchanged"], back["errors"]) == (0, before, [])


def test_two_uses_written_at_once_cannot_both_pass(db: TestDatabase) -> None:
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=TOWN_TIMEZONE)
    admin = Principal(name="boss", role=Role.ADMIN)
    with db.owner.begin() as c:
        post(c, Entry(source_id="k-r", kind="receipt", item="brochure", quantity=10,
                      to_holder="cu1", at=moment), posted_by="t")  # fmt: skip
    outcome: dict[str, str] = {}

    def second() -> None:
        with db.owner.begin() as c2:
            try:
                use = Entry(source_id="k-2", kind="use", item="brochure", quantity=8,
                            from_holder="cu1", at=moment)  # fmt: skip
                post_entries(c2, admin, [use])
                outcome["k-2"] = "posted"
            except RecordRefused as exc:
                outcome["k-2"] = str(exc)

    with db.owner.begin() as c1:
        post_entries(c1, admin, [Entry(source_id="k-1", kind="use", item="brochure", quantity=8,
                                       from_holder="cu1", at=moment)])  # fmt: skip
        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(1.0)
        assert racer.is_alive()  # waiting for the lock of (cu1, brochure)
    racer.join(timeout=30)
    assert "'k-2': quantity: 8 brochure would leave cu1 with -6" in outcome["k-2"]
    rows = _stock(db, "--as-of", "2026-03-01", "--holder", "cu1")
    assert [r for r in rows if r["item"] == "brochure"] == [
        {"holder": "cu1", "item": "brochure", "quantity": 2}
    ]
