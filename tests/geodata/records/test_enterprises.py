"""Enterprises, their reviews and passes, risk areas and publicity points on PostGIS: each
refusal names the record, the field and the reason and changes nothing; a new review keeps
the old; a pass waits for the approval and refuses a resident in active quarantine; the
points unchecked at a moment match a brute-force reading of the 7-day rule."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text

from geodata.records import enterprise_reviews, enterprises, passes, publicity, quarantines
from geodata.records import risk_areas as areas
from geodata.records.enterprise_reviews import Review
from geodata.records.enterprises import EnterpriseFields
from geodata.records.passes import PassFields
from geodata.records.placed import Where
from geodata.records.refusal import RecordRefused
from geodata.town_time import TOWN_TIMEZONE
from tests import factories as f

TODAY = date(2026, 3, 10)
ALL_MET = dict.fromkeys(enterprise_reviews.CHECKLIST, True)


@pytest.fixture
def town(conn: Connection) -> dict[str, int]:
    one = f.village(conn, "V1", f.square(0, 0, 1, 1))
    two = f.village(conn, "V2", f.square(1, 0, 2, 1))
    grid = f.grid(conn, one, "G1", f.square(0, 0, 1, 1))
    f.grid(conn, two, "G2", f.square(1, 0, 2, 1))
    areas.add(conn, "WH", name="Wuhan", from_day=date(2026, 1, 20), until_day=None, actor="t")
    areas.add(conn, "HB", name="Hubei", from_day=date(2026, 1, 23),
              until_day=date(2026, 3, 1), actor="t")  # fmt: skip
    household = f.household(conn, "h1", None, grid)
    for source in ("r-free", "r-quarantined"):
        conn.execute(
            text("INSERT INTO residents (source_id, household_id, grid_id, name)"
                 " VALUES (:s, :h, :g, 'Zhang San')"),
            {"s": source, "h": household, "g": grid},
        )  # fmt: skip
    quarantines.add(conn, quarantines.NewQuarantine(
        resident="r-quarantined", type="home", reason="close_contact",
        start=datetime.now(UTC) - timedelta(days=2)), actor="t")  # fmt: skip
    return {"V1": one, "V2": two}


def lonlat(x: float, y: float) -> tuple[float, float]:
    """A point x, y km from the factories' origin."""
    return f.ORIGIN[0] + x * f.KM_LON, f.ORIGIN[1] + y * f.KM_LAT


def km(x: float, y: float, village: str | None = None) -> Where:
    lon, lat = lonlat(x, y)
    return Where(lon=lon, lat=lat, village=village)


def wkt(kind: str, *points: tuple[float, float]) -> str:
    coords = ", ".join("{} {}".format(*lonlat(x, y)) for x, y in points)
    return f"{kind}(({coords}))" if kind == "POLYGON" else f"{kind}({coords})"


def factory(**over: object) -> EnterpriseFields:
    base: dict[str, object] = {
        "name": "Textile mill", "kind": "factory", "responsible": "Li Si", "staff_total": 120,
        "staff_local": 80, "risk_staff": {"WH": 12, "HB": 3},
        "where": km(0.5, 0.5),
    }  # fmt: skip
    base.update(over)
    return EnterpriseFields(**base)  # type: ignore[arg-type]


def count(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608 (test tables)


def refused(call: object, *parts: str) -> None:
    with pytest.raises(RecordRefused) as caught:
        call()  # type: ignore[operator]
    for part in parts:
        assert part in str(caught.value)


def test_risk_areas_days_codes_and_retirement(conn: Connection, town: dict[str, int]) -> None:
    refused(lambda: areas.add(conn, "X", name="x", from_day=date(2026, 2, 2),
                              until_day=date(2026, 2, 1), actor="t"),
            "risk area 'X'", "until:", "before from")  # fmt: skip
    refused(lambda: areas.add(conn, "WH", name="again", from_day=TODAY, until_day=None,
                              actor="t"), "code: exists already")  # fmt: skip
    assert [a["code"] for a in areas.listed(conn, on=date(2026, 3, 5))] == ["WH"]
    assert [a["code"] for a in areas.listed(conn)] == ["HB", "WH"]
    areas.retire(conn, "HB", at=datetime.now(UTC))
    assert [a["code"] for a in areas.listed(conn)] == ["WH"]
    assert [a["code"] for a in areas.listed(conn, retired=True)] == ["HB", "WH"]
    refused(lambda: enterprises.add(conn, "e-x", factory()), "risk_staff: 'HB': no such risk area")


def test_enterprise_fields_point_or_polygon_and_refusals(
    conn: Connection, town: dict[str, int]
) -> None:
    first = enterprises.add(conn, "e-1", factory())
    polygon = wkt("POLYGON", (1.2, 0.2), (1.4, 0.2), (1.4, 0.4), (1.2, 0.4), (1.2, 0.2))
    enterprises.add(conn, "e-2", factory(where=Where(wkt=polygon), risk_staff={}))
    got = {e["source_id"]: e for e in enterprises.listed(conn, None)}
    assert got["e-1"]["village"] == "V1"  # the village containing it
    assert got["e-2"]["village"] == "V2"
    assert (got["e-2"]["geometry"], got["e-1"]["geometry"]) == ("Polygon", "Point")
    assert got["e-1"]["risk_staff"] == {"HB": 3, "WH": 12}
    assert got["e-1"]["state"] == "pending"
    before = count(conn, "enterprises")
    cases = [
        (factory(where=km(9, 0.5)), "geometry: outside the town's extent"),
        (factory(where=km(0.5, 0.5, village="NOPE")), "village: 'NOPE': no such village"),
        (factory(kind="spaceport"), "kind: 'spaceport'"),
        (factory(staff_local=130), "staff_local: 130"),
        (factory(risk_staff={"XX": 1}), "risk_staff: 'XX': no such risk area"),
        (factory(risk_staff={"WH": 200}), "risk_staff: 200 from risk areas"),
        (factory(where=Where(wkt=wkt("LINESTRING", (0.1, 0.1), (0.2, 0.2)))), "wkt: a LineString"),
        (factory(where=Where(wkt="POLYGON((0 0")), "wkt: not a WKT geometry"),
    ]  # fmt: skip
    for fields, reason in cases:
        refused(lambda fields=fields: enterprises.add(conn, "e-bad", fields), "'e-bad'", reason)
    assert count(conn, "enterprises") == before
    lon, lat = lonlat(0.6, 0.6)
    enterprises.add(conn, "e-3d", factory(where=Where(wkt=f"POINT Z ({lon} {lat} 12)")))
    assert enterprises.listed(conn, None)[-1]["geometry"] == "Point"
    assert enterprises.upsert(conn, "e-1", factory()) == ("unchanged", first)
    assert enterprises.upsert(conn, "e-1", factory(risk_staff={"WH": 10})) == ("updated", first)


def test_reviews_keep_their_history_and_set_the_state(
    conn: Connection, town: dict[str, int]
) -> None:
    enterprises.add(conn, "e-1", factory())
    ref = enterprises.ref(conn, "e-1", "t")
    partial = {**ALL_MET, "health_officer": False}
    refused(lambda: enterprise_reviews.add(conn, ref, Review(decision="approved",
            checklist=partial, reviewed_on=TODAY), reviewer="cmd", today=TODAY),
            "health_officer: not met")  # fmt: skip
    refused(lambda: enterprise_reviews.add(conn, ref, Review(decision="maybe", checklist={},
            reviewed_on=TODAY), reviewer="cmd", today=TODAY), "decision: 'maybe'")  # fmt: skip
    refused(lambda: enterprise_reviews.add(conn, ref, Review(decision="conditional",
            checklist=partial, reviewed_on=TODAY), reviewer="cmd", today=TODAY),
            "conditions: required")  # fmt: skip
    refused(lambda: enterprise_reviews.add(conn, ref, Review(decision="refused", checklist={},
            reviewed_on=TODAY + timedelta(days=1)), reviewer="cmd", today=TODAY),
            "reviewed_on:", "in the future")  # fmt: skip
    assert count(conn, "enterprise_reviews") == 0
    earlier = TODAY - timedelta(days=3)
    enterprise_reviews.add(conn, ref, Review(decision="refused", checklist=partial,
                           reviewed_on=earlier), reviewer="cmd", today=TODAY)  # fmt: skip
    enterprise_reviews.add(conn, ref, Review(decision="approved", checklist=ALL_MET,
                           reviewed_on=TODAY), reviewer="cmd", today=TODAY)  # fmt: skip
    history = enterprise_reviews.history(conn, int(ref.id))
    assert [h["decision"] for h in history] == ["approved", "refused"]
    assert history[1]["checklist"]["health_officer"] is False
    assert enterprises.counts(conn, None)["approved"] == 1
    assert [e["source_id"] for e in enterprises.listed(conn, None, state="approved")] == ["e-1"]
    assert enterprises.listed(conn, None, state="pending") == []


def _approve(conn: Connection, source: str, on: date) -> None:
    ref = enterprises.ref(conn, source, "t")
    enterprise_reviews.add(conn, ref, Review(decision="approved", checklist=ALL_MET,
                           reviewed_on=on), reviewer="cmd", today=on)  # fmt: skip


def test_passes_wait_for_approval_and_refuse_quarantined_residents(
    conn: Connection, town: dict[str, int]
) -> None:
    enterprises.add(conn, "e-1", factory())
    days: dict[str, Any] = {"valid_from": TODAY, "valid_until": TODAY + timedelta(days=30)}
    refused(lambda: passes.upsert(conn, "P-1", PassFields(enterprise="e-1", resident="r-free",
            **days), actor="t"), "pass 'P-1'", "enterprise: 'e-1' is not approved")  # fmt: skip
    _approve(conn, "e-1", TODAY)
    cases: list[tuple[PassFields, str, str]] = [
        (PassFields(enterprise="e-1", resident="r-quarantined", **days), "resident:",
         "resident: 'r-quarantined' is in active quarantine"),
        (PassFields(enterprise="e-1", resident="nobody", **days), "resident:", "'nobody': no such"),
        (PassFields(enterprise="e-9", resident="r-free", **days), "enterprise:", "'e-9': no such"),
        (PassFields(enterprise="e-1", resident="r-free", valid_from=TODAY,
                    valid_until=TODAY - timedelta(days=1)), "valid_until:", "before valid_from"),
        (PassFields(enterprise="e-1", resident="r-free", valid_from=TODAY - timedelta(days=1),
                    valid_until=TODAY), "valid_from:", "before the enterprise's approval"),
        (PassFields(enterprise="e-1", name="Wang Wu", **days), "id_number:", "required"),
        (PassFields(enterprise="e-1", name="Wang Wu", id_number="12345", **days),
         "id_number:", "not an identity card number"),
        (PassFields(enterprise="e-1", resident="r-free", name="Wang Wu", **days), "resident:",
         "not both"),
    ]  # fmt: skip
    for fields, field, reason in cases:
        refused(lambda fields=fields: passes.upsert(conn, "P-1", fields, actor="t"), field, reason)
        with pytest.raises(RecordRefused) as caught:
            passes.upsert(conn, "P-1", fields, actor="t")
        assert "Wang Wu" not in str(caught.value)
    assert count(conn, "passes") == 0
    own = PassFields(enterprise="e-1", resident="r-free", **days)
    other = PassFields(enterprise="e-1", name="Wang Wu", id_number="32041219900101123x", **days)
    assert passes.upsert(conn, "P-1", own, actor="t")[0] == "inserted"
    assert passes.upsert(conn, "P-2", other, actor="t")[0] == "inserted"
    assert passes.upsert(conn, "P-2", other, actor="t")[0] == "unchanged"
    masked = {p["number"]: p for p in passes.listed(conn, None)}
    assert (masked["P-2"]["name"], masked["P-2"]["id_number"]) == ("W******", "3204**********123X")
    assert masked["P-1"]["resident"] == "r-free"
    shown = {p["number"]: p for p in passes.listed(conn, None, reveal=True)}
    assert shown["P-2"]["id_number"] == "32041219900101123X"
    assert passes.listed(conn, [town["V2"]]) == []


def _brute_unchecked(put_up: date, checks: list[datetime], at: datetime) -> bool:
    """The rule read plainly: the latest check (else the start of the day put up, town time)
    more than 7 days before `at`."""
    start = datetime.combine(put_up, datetime.min.time(), TOWN_TIMEZONE)
    return at - max(checks, default=start) > timedelta(days=7)


def test_publicity_points_unchecked_match_brute_force(
    conn: Connection, town: dict[str, int]
) -> None:
    now = datetime.now(UTC)
    rng = random.Random(3)
    made: dict[str, tuple[date, list[datetime]]] = {}
    for n in range(12):
        kind = publicity.KINDS[n % 4]
        where = Where(wkt=wkt("LINESTRING", (0.1, 0.1), (0.3, 0.2), (0.5, 0.6))) \
            if kind == "loudspeaker_route" else km(0.1 + n / 20, 0.5)  # fmt: skip
        put_up = (now - timedelta(days=rng.randrange(1, 30))).astimezone(TOWN_TIMEZONE).date()
        publicity.upsert(conn, f"pp-{n}", publicity.PointFields(
            kind=kind, content="戴口罩", put_up_on=put_up, where=where), now=now)  # fmt: skip
        checks: list[datetime] = []
        start = datetime.combine(put_up, datetime.min.time(), TOWN_TIMEZONE) + timedelta(hours=1)
        for _ in range(rng.randrange(0, 3)):
            at = start + (now - start) * rng.random()
            publicity.check(conn, f"pp-{n}", at=at, now=now)
            checks.append(at)
        made[f"pp-{n}"] = (put_up, checks)
    for offset in (0, 2, 5):
        at = now + timedelta(days=offset)
        got = {p["point"]: p["unchecked"] for p in publicity.listed(conn, None, at=at)}
        expected = {s: _brute_unchecked(p, c, at) for s, (p, c) in made.items()}
        assert got == expected
        assert publicity.unchecked_count(conn, None, at=at) == sum(expected.values())
    line = Where(wkt=wkt("LINESTRING", (0.1, 0.1), (0.2, 0.2)))
    refused(lambda: publicity.upsert(conn, "pp-x", publicity.PointFields(
        kind="banner", content="x", put_up_on=TODAY, where=line), now=now),
        "wkt: a LineString")  # fmt: skip
    refused(lambda: publicity.upsert(conn, "pp-x", publicity.PointFields(
        kind="loudspeaker_route", content="x", put_up_on=TODAY, where=km(0.2, 0.2)),
        now=now), "wkt: a Point: one of LineString")  # fmt: skip
    refused(lambda: publicity.check(conn, "pp-0", at=now + timedelta(hours=1), now=now),
            "at:", "is in the future")  # fmt: skip
    refused(lambda: publicity.check(conn, "nope", at=now, now=now), "no such publicity point")
