"""Quarantine records on the sample town: the checks due per window of the town's days
(a quarantine starting at 23:30 has nothing due that day), done, missed and escalated
against hand-computed windows; releases at the end with nobody acting, once; refusals; the
residents' quarantines adopted from `quarantine_until`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, text

from geodata.errors import ConflictError
from geodata.records import quarantines as q
from geodata.records.refusal import RecordRefused

TOWN = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 1)


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=TOWN)


def _free_resident(conn: Connection) -> str:
    return str(
        conn.execute(
            text(
                "SELECT r.source_id FROM residents r WHERE NOT EXISTS (SELECT 1 FROM quarantines"
                " x WHERE x.resident_id = r.id) ORDER BY r.id LIMIT 1"
            )
        ).scalar_one()
    )


def _add(conn: Connection, start: datetime, **kw: Any) -> dict[str, Any]:
    new = q.NewQuarantine(
        resident=kw.pop("resident", None) or _free_resident(conn),
        type=kw.pop("type", "home"),
        reason=kw.pop("reason", "fever"),
        start=start,
        **kw,
    )
    return q.add(conn, new, actor="test")


def _mine(report: dict[str, Any], qid: int) -> list[tuple[str, bool, bool, bool]]:
    return [
        (c["window"][11:16], c["done"], c["missed"], c["escalate"])
        for c in report["checks"]
        if c["quarantine"] == qid
    ]


def test_windows_of_the_town_day_from_a_start_at_23_30(sample_conn: Connection) -> None:
    made = _add(sample_conn, _at(DAY, 23, 30))
    assert datetime.fromisoformat(made["end"]) == _at(DAY + timedelta(days=14), 23, 30)
    nothing = q.due(sample_conn, DAY, now=_at(DAY, 23, 59))
    assert _mine(nothing, made["id"]) == []  # both windows closed before it started
    nxt = DAY + timedelta(days=1)
    q.record_check(sample_conn, made["id"], temperature_c="36.6", at=_at(nxt, 8), by="t")
    q.record_check(sample_conn, made["id"], temperature_c="36.7", at=_at(nxt, 12), by="t")
    at_21 = q.due(sample_conn, nxt, now=_at(nxt, 21))
    # 12:00 is the morning window's end, not in it; the afternoon one closed at 20:00
    assert _mine(at_21, made["id"]) == [
        ("07:00", True, False, False),
        ("14:00", False, True, False),
    ]
    at_23 = q.due(sample_conn, nxt, now=_at(nxt, 23))
    assert _mine(at_23, made["id"])[1] == ("14:00", False, True, True)  # > 2 h late
    assert at_21["missed_by_grid"][made["grid"]] >= 1
    before_noon = q.due(sample_conn, nxt, now=_at(nxt, 11))
    assert _mine(before_noon, made["id"]) == [
        ("07:00", True, False, False),
        ("14:00", False, False, False),
    ]


def test_missed_counts_match_an_independent_count(sample_conn: Connection) -> None:
    made = [_add(sample_conn, _at(DAY, h)) for h in (6, 10, 15)]
    # 06:00 gets both windows, 10:00 (morning window already open) and 15:00 neither/one
    report = q.due(sample_conn, DAY, now=_at(DAY, 22))
    windows = [(_at(DAY, 7), _at(DAY, 12)), (_at(DAY, 14), _at(DAY, 20))]
    expected = sum(1 for m in made for a, _ in windows if datetime.fromisoformat(m["start"]) <= a)
    assert sum(1 for m in made for c in _mine(report, m["id"]) if c[2]) == expected == 3
    # the per-grid counts are the due list's, summed
    per_grid: dict[str, tuple[int, int]] = {}
    for c in report["checks"]:
        n, missed = per_grid.get(c["grid"], (0, 0))
        per_grid[c["grid"]] = (n + 1, missed + int(c["missed"]))
    assert q.checks_per_grid(sample_conn, DAY, _at(DAY, 22)) == per_grid


def test_released_at_the_end_once_with_an_event(sample_conn: Connection) -> None:
    made = _add(sample_conn, _at(DAY, 9), days=1)
    end = _at(DAY + timedelta(days=1), 9)
    assert made["id"] not in q.release_due(sample_conn, end - timedelta(seconds=1))
    assert made["id"] in q.release_due(sample_conn, end)
    assert made["id"] not in q.release_due(sample_conn, end + timedelta(days=1))
    got = q.get(sample_conn, made["id"])
    assert got is not None
    assert got["status"] == "released"
    assert datetime.fromisoformat(got["released_at"]) == end
    kinds = sample_conn.execute(
        text("SELECT kind FROM quarantine_changes WHERE quarantine_id = :i"), {"i": made["id"]}
    ).scalars()
    assert list(kinds) == ["release"]
    assert not q.release(sample_conn, made["id"], at=end, reason="again", by="t")
    assert q.due(sample_conn, DAY + timedelta(days=2), now=end)["checks"] == [] or all(
        c["quarantine"] != made["id"]
        for c in q.due(sample_conn, DAY + timedelta(days=2), now=end)["checks"]
    )


def test_refusals_change_nothing(sample_conn: Connection) -> None:
    made = _add(sample_conn, _at(DAY, 9))
    with pytest.raises(ConflictError, match="already in active quarantine"):
        _add(sample_conn, _at(DAY, 10), resident=made["resident"])
    with pytest.raises(RecordRefused, match="days: between 1 and 60"):
        _add(sample_conn, _at(DAY, 9), days=0)
    with pytest.raises(RecordRefused, match="origin: required for a returnee"):
        _add(sample_conn, _at(DAY, 9), reason="returnee")
    with pytest.raises(RecordRefused, match=r"looks like °F \(37.0 °C\)"):
        q.record_check(sample_conn, made["id"], temperature_c="98.6", at=_at(DAY, 10), by="t")
    with pytest.raises(RecordRefused, match=r"outside 34\.0-43\.0"):
        q.record_check(sample_conn, made["id"], temperature_c="33.9", at=_at(DAY, 10), by="t")
    with pytest.raises(RecordRefused, match="outside the quarantine"):
        q.record_check(sample_conn, made["id"], temperature_c="36.5", at=_at(DAY, 8), by="t")
    assert (
        sample_conn.execute(
            text("SELECT count(*) FROM quarantine_checks WHERE quarantine_id = :i"),
            {"i": made["id"]},
        ).scalar()
        == 0
    )


def test_a_fever_and_an_idempotency_key(sample_conn: Connection) -> None:
    made = _add(sample_conn, _at(DAY, 9))
    first, new = q.record_check(sample_conn, made["id"], temperature_c=37.3, at=_at(DAY, 10),
                                by="t", key="k-1")  # fmt: skip
    again, new_again = q.record_check(sample_conn, made["id"], temperature_c=36.0,
                                      at=_at(DAY, 11), by="t", key="k-1")  # fmt: skip
    assert (new, new_again) == (True, False)
    assert first == again
    assert first["fever"] is True
    (alert,) = q.alerts(sample_conn)
    assert (alert["id"], alert["temperature_c"]) == (first["fever_alert"], 37.3)
    with pytest.raises(RecordRefused, match="action: required"):
        q.close_alert(sample_conn, alert["id"], action=" ", by="t", at=_at(DAY, 12))
    assert q.close_alert(sample_conn, alert["id"], action="sent to the clinic", by="t",
                         at=_at(DAY, 12))  # fmt: skip
    assert not q.close_alert(sample_conn, alert["id"], action="again", by="t", at=_at(DAY, 13))
    assert q.alerts(sample_conn) == []
    normal, _ = q.record_check(sample_conn, made["id"], temperature_c="37.2", at=_at(DAY, 14),
                               by="t")  # fmt: skip
    assert normal["fever_alert"] is None


def test_the_residents_quarantines_are_adopted(sample_conn: Connection) -> None:
    expected = sample_conn.execute(
        text(
            "SELECT r.id, r.quarantine_until FROM residents r JOIN households h"
            " ON h.id = r.household_id WHERE r.quarantine_until IS NOT NULL"
            " AND h.status = 'home_quarantine' ORDER BY r.id"
        )
    ).all()
    adopted = sample_conn.execute(
        text(
            "SELECT resident_id, starts_at, ends_at FROM quarantines"
            " WHERE created_by = 'residents.quarantine_until' ORDER BY resident_id"
        )
    ).all()
    assert expected
    assert [a.resident_id for a in adopted] == [e.id for e in expected]
    for a, e in zip(adopted, expected, strict=True):
        assert a.ends_at == datetime.combine(e.quarantine_until, datetime.min.time(), TOWN)
        assert a.ends_at - a.starts_at == timedelta(days=14)
