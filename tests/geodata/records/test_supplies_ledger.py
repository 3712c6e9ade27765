"""The supplies ledger against an independent model: stock as a plain Python sum of the
entries accepted, and refusal exactly when some holder would end some day below zero."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from geodata.errors import ConflictError
from geodata.records import people
from geodata.records.refusal import RecordRefused
from geodata.records.supplies_ledger import Entry, post
from geodata.records.supplies_stock import (
    donations,
    low_stock,
    set_threshold,
    stock,
    verify_totals,
)
from geodata.town_time import TOWN_TIMEZONE
from geodata.vocab import TeamKind
from tests import factories as f

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=TOWN_TIMEZONE)
HOLDERS = ("town-store", "cu1", "cu2")
ITEMS = ("mask", "thermometer")


@pytest.fixture
def ledger(conn: Connection) -> Connection:
    one = f.village(conn, "V1", f.square(0, 0, 1, 1))
    f.grid(conn, one, "G1", f.square(0, 0, 1, 1))
    people.add_team(conn, "cu1", name="Unit 1", kind=TeamKind.COMBAT_UNIT, village="V1")
    people.add_team(conn, "cu2", name="Gate", kind=TeamKind.CHECKPOINT, village="V1", parent="cu1")
    return conn


def _moves(e: Entry, by_id: dict[str, Entry]) -> list[tuple[str, str, date, int]]:
    """The model's (holder, item, day, change) of an entry, from its own fields."""
    day = e.at.astimezone(TOWN_TIMEZONE).date()
    if e.kind == "reversal":
        original = by_id[str(e.reverses)]
        return [(h, i, day, -q) for h, i, _, q in _moves(original, by_id)]
    assert e.item is not None
    assert e.quantity is not None
    out = [] if e.from_holder is None else [(e.from_holder, e.item, day, -e.quantity)]
    into = [] if e.to_holder is None else [(e.to_holder, e.item, day, e.quantity)]
    return out + into


def _model_stock(moves: list[tuple[str, str, date, int]], day: date) -> dict[tuple[str, str], int]:
    total: dict[tuple[str, str], int] = defaultdict(int)
    for h, i, d, q in moves:
        if d <= day:
            total[(h, i)] += q
    return dict(total)


def _model_refuses(moves: list[tuple[str, str, date, int]], last: date) -> bool:
    first = min(d for *_, d, _ in moves)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return any(q < 0 for d in days for q in _model_stock(moves, d).values())


def _random_entry(rng: random.Random, n: int, accepted: list[Entry], reversed_: set[str]) -> Entry:
    at = T0 + timedelta(days=rng.randrange(75), hours=rng.randrange(14))
    kind = rng.choice(["receipt", "receipt", "transfer", "transfer", "use", "use", "reversal"])
    reversible = [e for e in accepted if e.kind != "reversal" and e.source_id not in reversed_]
    if kind == "reversal" and reversible:
        target = rng.choice(reversible)
        return Entry(
            source_id=f"e{n}",
            kind="reversal",
            reverses=target.source_id,
            at=target.at + timedelta(hours=rng.randrange(72)),
            reason="wrong count",
        )
    if kind == "reversal":
        kind = "receipt"
    a, b = rng.sample(HOLDERS, 2)
    return Entry(
        source_id=f"e{n}",
        kind=kind,
        item=rng.choice(ITEMS),
        quantity=rng.randrange(1, 40),
        from_holder=None if kind == "receipt" else a,
        to_holder=None if kind == "use" else b,
        donor=rng.choice([None, "Red Cross"]) if kind == "receipt" else None,
        at=at,
    )


def test_stock_is_the_sum_of_the_entries_and_no_day_goes_negative(ledger: Connection) -> None:
    rng = random.Random(18)
    accepted: list[Entry] = []
    by_id: dict[str, Entry] = {}
    reversed_: set[str] = set()
    moves: list[tuple[str, str, date, int]] = []
    refused = 0
    last = (T0 + timedelta(days=80)).date()
    for n in range(160):
        entry = _random_entry(rng, n, accepted, reversed_)
        by_id[entry.source_id] = entry
        trial = moves + _moves(entry, by_id)
        expect_refused = _model_refuses(trial, last)
        if expect_refused:
            with pytest.raises(
                RecordRefused, match=rf"ledger entry 'e{n}': quantity: .* would leave"
            ):
                post(ledger, entry, posted_by="test")
            refused += 1
            continue
        assert post(ledger, entry, posted_by="test") == ("inserted", entry.source_id)
        accepted.append(entry)
        moves = trial
        if entry.reverses:
            reversed_.add(entry.reverses)
    assert 20 < refused < 140  # both outcomes exercised
    assert len(accepted) > 20
    for offset in (0, 3, 30, 31, 45, 61, 80):
        day = (T0 + timedelta(days=offset)).date()
        got = {(r["holder"], r["item"]): r["quantity"] for r in stock(ledger, day)}
        assert got == _model_stock(moves, day)
        for holder in HOLDERS:
            one = {
                (r["holder"], r["item"]): r["quantity"]
                for r in stock(ledger, day, holder_source_id=holder)
            }
            assert one == {k: q for k, q in _model_stock(moves, day).items() if k[0] == holder}
    assert verify_totals(ledger) == []
    ledger.execute(text("UPDATE supply_month_totals SET net = net + 1 WHERE month = '2026-04-01'"))
    drifted = verify_totals(ledger)
    assert drifted
    assert {d["month"] for d in drifted} == {"2026-04-01"}
    assert all(d["total"] == d["entries"] + 1 for d in drifted)


def test_a_backdated_use_is_refused_when_a_later_day_would_go_negative(ledger: Connection) -> None:
    post(ledger, Entry(source_id="r1", kind="receipt", item="mask", quantity=10,
                       to_holder="cu1", at=T0), posted_by="t")  # fmt: skip
    post(ledger, Entry(source_id="u1", kind="use", item="mask", quantity=8,
                       from_holder="cu1", at=T0 + timedelta(days=5)), posted_by="t")  # fmt: skip
    late = Entry(source_id="u0", kind="use", item="mask", quantity=5, from_holder="cu1",
                 at=T0 + timedelta(days=2))  # fmt: skip
    with pytest.raises(
        RecordRefused, match=r"'u0': quantity: 5 mask would leave cu1 with -3 on 2026-03-06"
    ):
        post(ledger, late, posted_by="t")
    before = Entry(source_id="u2", kind="use", item="mask", quantity=1, from_holder="cu1",
                   at=T0 - timedelta(days=1))  # fmt: skip
    with pytest.raises(RecordRefused, match=r"with -1 on 2026-02-28"):
        post(ledger, before, posted_by="t")
    assert stock(ledger, (T0 + timedelta(days=9)).date()) == [
        {"holder": "cu1", "item": "mask", "quantity": 2}
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (Entry(source_id="x", kind="receipt", item="mask", quantity=0, to_holder="cu1", at=T0),
         r"'x': quantity: 0: must be more than 0"),
        (Entry(source_id="x", kind="receipt", item="mask", quantity=-4, to_holder="cu1", at=T0),
         r"'x': quantity: -4: must be more than 0"),
        (Entry(source_id="x", kind="receipt", item="gloves", quantity=1, to_holder="cu1", at=T0),
         r"'x': item: 'gloves': no such item"),
        (Entry(source_id="x", kind="receipt", item="mask", quantity=1, to_holder="nobody", at=T0),
         r"'x': to_holder: 'nobody': no such holder"),
        (Entry(source_id="x", kind="transfer", item="mask", quantity=1, to_holder="cu1", at=T0),
         r"'x': from_holder: required for a transfer"),
        (Entry(source_id="x", kind="use", item="mask", quantity=1, from_holder="cu1",
               donor="Li", at=T0), r"'x': donor: only a receipt has a donor"),
        (Entry(source_id="x", kind="reversal", reverses="nope", reason="r", at=T0),
         r"'x': reverses: 'nope': no such entry"),
        (Entry(source_id="x", kind="gift", item="mask", quantity=1, to_holder="cu1", at=T0),
         r"'x': kind: 'gift': one of"),
    ],
)  # fmt: skip
def test_bad_entries_are_refused_naming_the_field(
    ledger: Connection, entry: Entry, message: str
) -> None:
    with pytest.raises(RecordRefused, match=message):
        post(ledger, entry, posted_by="t")
    assert ledger.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one() == 0


def test_posted_entries_never_change(ledger: Connection) -> None:
    r1 = Entry(source_id="r1", kind="receipt", item="mask", quantity=10, to_holder="cu1",
               donor="Red Cross", at=T0)  # fmt: skip
    assert post(ledger, r1, posted_by="t") == ("inserted", "r1")
    same = Entry(source_id="r1", kind="receipt", item="mask", quantity=10, to_holder="cu1",
                 donor="Red Cross", at=T0.astimezone(TOWN_TIMEZONE).replace())  # fmt: skip
    assert post(ledger, same, posted_by="t") == ("unchanged", "r1")
    changed = Entry(source_id="r1", kind="receipt", item="mask", quantity=11, to_holder="cu1",
                    donor="Red Cross", at=T0)  # fmt: skip
    with pytest.raises(ConflictError, match=r"'r1': quantity: differs from the posted entry"):
        post(ledger, changed, posted_by="t")
    with pytest.raises(DBAPIError, match="never changed"), ledger.begin_nested():
        ledger.execute(text("UPDATE ledger_entries SET quantity = 1"))
    with pytest.raises(DBAPIError, match="never changed"), ledger.begin_nested():
        ledger.execute(text("DELETE FROM ledger_entries"))
    back = Entry(source_id="v1", kind="reversal", reverses="r1", reason="counted twice",
                 at=T0 + timedelta(hours=1))  # fmt: skip
    assert post(ledger, back, posted_by="t") == ("inserted", "v1")
    again = Entry(
        source_id="v2", kind="reversal", reverses="r1", reason="x", at=T0 + timedelta(hours=2)
    )
    with pytest.raises(RecordRefused, match=r"'v2': reverses: 'r1': already reversed by 'v1'"):
        post(ledger, again, posted_by="t")
    undo = Entry(
        source_id="v3", kind="reversal", reverses="v1", reason="x", at=T0 + timedelta(hours=2)
    )
    with pytest.raises(RecordRefused, match=r"'v3': reverses: 'v1': a reversal is not reversed"):
        post(ledger, undo, posted_by="t")
    assert stock(ledger, T0.date()) == [{"holder": "cu1", "item": "mask", "quantity": 0}]


def _put(conn: Connection, source_id: str, kind: str, qty: int, hours: int, **kw: str) -> None:
    at = T0 + timedelta(hours=hours)
    entry = Entry(source_id=source_id, kind=kind, item="mask", quantity=qty, at=at, **kw)
    post(conn, entry, posted_by="t")


def test_low_stock_and_where_donations_went(ledger: Connection) -> None:
    day = T0.date()
    _put(ledger, "p", "receipt", 5, 0, to_holder="town-store")
    _put(ledger, "d", "receipt", 100, 1, to_holder="town-store", donor="Acme")
    _put(ledger, "t", "transfer", 45, 2, from_holder="town-store", to_holder="cu1")
    _put(ledger, "u", "use", 30, 3, from_holder="town-store")
    set_threshold(ledger, "cu1", "mask", 50)
    set_threshold(ledger, "town-store", "mask", 10)
    assert [(r["holder"], r["quantity"], r["minimum"]) for r in low_stock(ledger, day)] == [
        ("cu1", 45, 50)
    ]
    [gift] = donations(ledger, None, None)
    assert (gift["donor"], gift["item"], gift["quantity"], gift["date"], gift["received_by"]) == (
        "Acme",
        "mask",
        100,
        "2026-03-01",
        "town-store",
    )
    # the 5 bought first leave first: 40 of the gift to cu1, 30 used, 30 still in the store
    assert [(w["kind"], w["to"], w["quantity"]) for w in gift["went"]] == [
        ("transfer", "cu1", 40),
        ("use", None, 30),
    ]
    assert gift["left_with_holder"] == 30
    with pytest.raises(RecordRefused, match=r"threshold cu1/mask: minimum: -1: must be 0 or more"):
        set_threshold(ledger, "cu1", "mask", -1)


def test_a_reversal_names_its_holders_either_way_or_not_at_all(ledger: Connection) -> None:
    _put(ledger, "r", "receipt", 10, 0, to_holder="town-store")
    _put(ledger, "t", "transfer", 4, 1, from_holder="town-store", to_holder="cu1")
    at = T0 + timedelta(hours=2)
    as_written = Entry(source_id="v", kind="reversal", reverses="t", reason="wrong unit",
                       from_holder="town-store", to_holder="cu1", item="mask", quantity=4,
                       at=at)  # fmt: skip
    assert post(ledger, as_written, posted_by="t") == ("inserted", "v")
    swapped = Entry(source_id="v", kind="reversal", reverses="t", reason="wrong unit",
                    from_holder="cu1", to_holder="town-store", at=at)  # fmt: skip
    assert post(ledger, swapped, posted_by="t") == ("unchanged", "v")
    other = Entry(
        source_id="v", kind="reversal", reverses="t", reason="x", from_holder="cu2", at=at
    )
    with pytest.raises(RecordRefused, match=r"'v': from_holder: differs from the posted entry"):
        post(ledger, other, posted_by="t")
    wrong = Entry(source_id="w", kind="reversal", reverses="r", reason="x", to_holder="cu2", at=at)
    with pytest.raises(RecordRefused, match=r"'w': to_holder: 'cu2': the reversal of 'r' moves"):
        post(ledger, wrong, posted_by="t")
    assert {(r["holder"], r["quantity"]) for r in stock(ledger, T0.date())} == {
        ("town-store", 10),
        ("cu1", 0),
    }
