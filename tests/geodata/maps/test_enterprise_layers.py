"""The enterprises and publicity points on the commander's map: each enterprise in the state
of its latest review by the moment's town-time day (`pending` before any), a polygon as a
polygon; publicity points put up by then, `unchecked` past 7 days without a check; no
personal data in either."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import orjson
from sqlalchemy import Connection

from geodata.maps.layers import LAYERS, feature_collection
from geodata.records import enterprise_reviews, enterprises, publicity
from geodata.records.enterprise_reviews import Review
from geodata.records.placed import Where
from geodata.town_time import TOWN_TIMEZONE
from tests.geodata.records.test_enterprises import ALL_MET, factory, km, town, wkt

__all__ = ["town"]


def features(conn: Connection, layer: str, at: datetime) -> dict[str, dict[str, object]]:
    body = orjson.loads(feature_collection(conn, LAYERS[layer], as_of=at))
    key = "name" if layer == "enterprises" else "content"
    return {str(f["properties"][key]): f for f in body["features"]}


def test_enterprises_by_review_state_as_of_a_day(conn: Connection, town: dict[str, int]) -> None:
    square = wkt("POLYGON", (0.2, 0.2), (0.4, 0.2), (0.4, 0.4), (0.2, 0.4), (0.2, 0.2))
    enterprises.add(conn, "e-1", factory(name="Mill"))
    enterprises.add(conn, "e-2", factory(name="Depot", where=Where(wkt=square), risk_staff={}))
    mill = enterprises.ref(conn, "e-1", "t")
    for day, decision in ((date(2026, 2, 3), "refused"), (date(2026, 2, 7), "approved")):
        enterprise_reviews.add(conn, mill, Review(decision=decision, checklist=ALL_MET,
                               reviewed_on=day), reviewer="cmd", today=day)  # fmt: skip
    # 23:30 on 6 February in the town is still the 6th: the refusal holds
    late = datetime(2026, 2, 6, 23, 30, tzinfo=TOWN_TIMEZONE)
    for at, expected in (
        (datetime(2026, 2, 1, 12, tzinfo=TOWN_TIMEZONE), "pending"),
        (late, "refused"),
        (late + timedelta(hours=1), "approved"),
    ):
        got = features(conn, "enterprises", at)
        assert got["Mill"]["properties"]["review"] == expected, at  # type: ignore[index]
        assert got["Depot"]["properties"]["review"] == "pending"  # type: ignore[index]
    got = features(conn, "enterprises", late)
    assert got["Depot"]["geometry"]["type"] == "Polygon"  # type: ignore[index]
    assert got["Mill"]["properties"]["staff_from_risk_areas"] == 15  # type: ignore[index]
    assert "Li Si" not in orjson.dumps(got).decode()  # the responsible person stays out


def test_publicity_points_checked_or_not_at_a_moment(
    conn: Connection, town: dict[str, int]
) -> None:
    put_up = date(2026, 2, 1)
    later = datetime(2026, 3, 1, tzinfo=TOWN_TIMEZONE)
    route = Where(wkt=wkt("LINESTRING", (0.1, 0.1), (0.5, 0.5)))
    for source, kind, where in (("b", "banner", km(0.3, 0.3)), ("r", "loudspeaker_route", route)):
        fields = publicity.PointFields(kind=kind, content=f"say {source}", put_up_on=put_up,
                                       where=where)  # fmt: skip
        publicity.upsert(conn, source, fields, now=later)
    publicity.check(conn, "b", at=datetime(2026, 2, 10, 9, tzinfo=TOWN_TIMEZONE), now=later)
    assert features(conn, "publicity_points", datetime(2026, 1, 30, tzinfo=TOWN_TIMEZONE)) == {}
    at = datetime(2026, 2, 16, 12, tzinfo=TOWN_TIMEZONE)
    got = features(conn, "publicity_points", at)
    assert {k: v["properties"]["check"] for k, v in got.items()} == {  # type: ignore[index]
        "say b": "checked", "say r": "unchecked"}  # fmt: skip
    assert got["say r"]["geometry"]["type"] == "LineString"  # type: ignore[index]
    got = features(conn, "publicity_points", at + timedelta(days=2))
    assert got["say b"]["properties"]["check"] == "unchecked"  # type: ignore[index]
