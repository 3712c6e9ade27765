"""The commander's map layers of disinfection places and supply holders against the records'
own computation: a place is `overdue` exactly when `records.disinfection.overdue` lists it,
and a holder is `low` exactly when `records.supplies_stock.low_stock` names one of its items,
at moments before, between and after rounds and entries; the command post's figures count
the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, text

from geodata.auth.access import Principal
from geodata.maps.layers import LAYERS, feature_collection
from geodata.records import disinfection, supplies_stock
from geodata.records.supplies_ledger import Entry, post
from geodata.records.town_settings import town_timezone
from geodata.services import command_post
from geodata.vocab import Role

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
COMMANDER = Principal(name="test-commander", role=Role.COMMANDER)


def _features(conn: Connection, layer: str, at: datetime) -> dict[str, dict[str, Any]]:
    body = orjson.loads(feature_collection(conn, LAYERS[layer], as_of=at))
    return {f["properties"]["name"]: f for f in body["features"]}


def _checkpoints(conn: Connection, n: int) -> list[tuple[str, str]]:
    rows = conn.execute(
        text("SELECT source_id, name FROM checkpoints ORDER BY id LIMIT :n"), {"n": n}
    ).all()
    return [(str(s), str(name)) for s, name in rows]


def _entry(source_id: str, kind: str, day: int, item: str, quantity: int, **holders: str) -> Entry:
    return Entry(
        source_id=source_id, kind=kind, at=START + timedelta(days=day), item=item,
        quantity=quantity, **holders,
    )  # fmt: skip


def test_disinfection_places_are_overdue_as_the_records_say(sample_conn: Connection) -> None:
    conn = sample_conn
    rounds = {0: [], 1: [3], 2: [1, 9, 13]}  # hours after START
    names: dict[str, str] = {}
    for n, (cp, _) in enumerate(_checkpoints(conn, 3)):
        place = disinfection.add_place(
            conn, f"t:place{n}", name=f"Place {n}", kind="market", rounds_per_day=2 + n,
            checkpoint=cp,
        )  # fmt: skip
        conn.execute(
            text("UPDATE disinfection_places SET created_at = :c WHERE id = :p"),
            {"c": START, "p": place},
        )
        for h in rounds[n]:
            disinfection.add_round(
                conn, place, at=START + timedelta(hours=h), staff=None, agent="84",
                recorded_by="test", now=START + timedelta(days=2),
            )  # fmt: skip
        names[f"t:place{n}"] = f"Place {n}"
    states: set[str] = set()
    for hours in (0.5, 2, 8, 12.2, 12.9, 14, 20, 26, 40):
        at = START + timedelta(hours=hours)
        expected = {names[o["place"]] for o in disinfection.overdue(conn, at, None)}
        drawn = _features(conn, "disinfection_places", at)
        assert set(drawn) == set(names.values())
        flagged = {name for name, f in drawn.items() if f["properties"]["round"] == "overdue"}
        assert flagged == expected, hours
        states |= {f["properties"]["round"] for f in drawn.values()}
        for feature in drawn.values():
            assert feature["geometry"]["type"] == "Point"  # the checkpoint's point
    assert states == {"overdue", "done"}  # the moments tell both apart
    at = START + timedelta(hours=12.2)
    figures = command_post.figures(conn, COMMANDER, at=at)["disinfection"]
    listed = disinfection.overdue(conn, at, None)
    assert len(listed) == 1
    assert figures == {"places": 3, "overdue": len(listed)}
    before = _features(conn, "disinfection_places", START - timedelta(hours=1))
    assert before == {}  # not there yet


def test_supply_holders_are_low_as_the_records_say(sample_conn: Connection) -> None:
    conn = sample_conn
    (first, first_name), (second, second_name) = _checkpoints(conn, 2)
    for holder in (first, second):
        supplies_stock.set_threshold(conn, holder, "mask", 100)
        supplies_stock.set_threshold(conn, holder, "thermometer", 2)
    day = START.astimezone(town_timezone(conn)).date()
    entries = [
        _entry("t:in1", "receipt", 0, "mask", 150, to_holder=first, donor="Donor"),
        _entry("t:in2", "receipt", 0, "thermometer", 5, to_holder=first, donor="Donor"),
        _entry("t:in3", "receipt", 0, "mask", 300, to_holder=second, donor="Donor"),
        _entry("t:in4", "receipt", 0, "thermometer", 1, to_holder=second, donor="Donor"),
        _entry("t:use1", "use", 2, "mask", 60, from_holder=first),
        _entry("t:move", "transfer", 4, "thermometer", 3, from_holder=first, to_holder=second),
    ]
    for entry in entries:
        post(conn, entry, posted_by="test")
    for offset in (0, 1, 2, 3, 4, 6):
        at = START + timedelta(days=offset, hours=1)
        low = supplies_stock.low_stock(conn, day + timedelta(days=offset))
        expected = {row["holder"] for row in low}
        drawn = _features(conn, "supply_holders", at)
        assert set(drawn) == {first_name, second_name}
        flagged = {
            f["properties"]["holder"] for f in drawn.values() if f["properties"]["stock"] == "low"
        }
        assert flagged == expected, offset
        for feature in drawn.values():
            items = {r["item"] for r in low if r["holder"] == feature["properties"]["holder"]}
            shown = feature["properties"]["items_below"]
            assert set(shown.split(", ") if shown else []) == items
    assert {row["holder"] for row in supplies_stock.low_stock(conn, day + timedelta(days=6))} == {
        first
    }
    figures = command_post.figures(conn, COMMANDER, at=START + timedelta(days=6, hours=1))
    assert figures["supplies"] == {"below_threshold": 1, "holders_below_threshold": 1}
