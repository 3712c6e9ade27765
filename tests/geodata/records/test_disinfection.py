"""Disinfection against brute force: a place is overdue at t when t is later than its last
round at or before t (else its creation) plus 24 h ÷ its rounds a day plus the grace; a
day's overdue minutes counted minute by minute."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, text

from geodata.records import disinfection as records
from geodata.records import town_settings
from geodata.records.refusal import RecordRefused
from geodata.town_time import TOWN_TIMEZONE
from tests import factories as f

CREATED = datetime(2026, 4, 1, 0, 0, tzinfo=TOWN_TIMEZONE)
LATER = datetime(2030, 1, 1, tzinfo=TOWN_TIMEZONE)


@pytest.fixture
def places(conn: Connection) -> dict[str, tuple[int, list[datetime]]]:
    """Four places (rounds a day 1 to 4) with random rounds over three days."""
    v = f.village(conn, "V1", f.square(0, 0, 1, 1))
    f.grid(conn, v, "G1", f.square(0, 0, 1, 1))
    rng = random.Random(2)
    made: dict[str, tuple[int, list[datetime]]] = {}
    for n in (1, 2, 3, 4):
        source = f"place-{n}"
        pid = records.add_place(conn, source, name=f"Market {n}", kind="market",
                                rounds_per_day=n, village="V1", lon=0.5, lat=0.5)  # fmt: skip
        conn.execute(text("UPDATE disinfection_places SET created_at = :c WHERE id = :i"),
                     {"c": CREATED, "i": pid})  # fmt: skip
        minutes = sorted(rng.sample(range(3 * 24 * 60), rng.randrange(n, 4 * n + 2)))
        rounds = [CREATED + timedelta(minutes=m) for m in minutes]
        for at in rounds:
            records.add_round(conn, pid, at=at, staff=None, agent="84 disinfectant",
                              recorded_by="t", now=LATER)  # fmt: skip
        made[source] = (n, rounds)
    return made


def _brute_due(n: int, rounds: list[datetime], t: datetime, grace: int) -> datetime | None:
    before = [r for r in rounds if r <= t]
    last = max(before) if before else CREATED
    due = last + timedelta(hours=24) / n + timedelta(minutes=grace)
    return due if t > due else None


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def test_overdue_matches_brute_force(
    conn: Connection, places: dict[str, tuple[int, list[datetime]]]
) -> None:
    rng = random.Random(7)
    moments = [CREATED + timedelta(minutes=rng.randrange(4 * 1440), seconds=30) for _ in range(60)]
    seen = 0
    for grace in (30, 0, 90):
        if grace != 30:
            town_settings.set_setting(conn, "disinfection_grace_minutes", str(grace), actor="t")
        for t in moments:
            got = {
                (o["place"], _moment(o["last_round_at"]), _moment(o["due_at"]))
                for o in records.overdue(conn, t, None)
            }
            want = set()
            for source, (n, rounds) in places.items():
                due = _brute_due(n, rounds, t, grace)
                if due is not None:
                    before = [r for r in rounds if r <= t]
                    want.add((source, max(before) if before else None, due))
            assert got == want, (t, grace)
            seen += len(got)
    assert seen > 20  # overdue places were found, not only none


def test_compliance_matches_minute_by_minute(
    conn: Connection, places: dict[str, tuple[int, list[datetime]]]
) -> None:
    for offset in range(3):
        start = CREATED + timedelta(days=offset)
        got = {
            p["place"]: p
            for p in records.compliance(conn, start + timedelta(hours=12), None, now=LATER)
        }
        assert set(got) == set(places)
        for source, (n, rounds) in places.items():
            samples = (start + timedelta(minutes=k, seconds=30) for k in range(24 * 60))
            overdue = sum(1 for t in samples if _brute_due(n, rounds, t, 30) is not None)
            done = sum(1 for r in rounds if start <= r < start + timedelta(days=1))
            assert got[source]["overdue_minutes"] == overdue, (source, offset)
            assert got[source]["rounds"] == done
            assert got[source]["compliant"] == (done >= n and overdue == 0)


def test_rounds_in_the_future_or_of_unknowns_are_refused(
    conn: Connection, places: dict[str, tuple[int, list[datetime]]]
) -> None:
    pid = records.place_ref(conn, "place-2").id
    now = datetime(2026, 4, 10, 12, 0, tzinfo=TOWN_TIMEZONE)
    with pytest.raises(
        RecordRefused, match=r"disinfection round: at: 2026-04-10T12:01:00\+08:00 is in the future"
    ):
        records.add_round(conn, pid, at=now + timedelta(minutes=1), staff=None, agent="x",
                          recorded_by="t", now=now)  # fmt: skip
    with pytest.raises(RecordRefused, match=r"by: 'ghost': no such staff"):
        records.add_round(conn, pid, at=now, staff="ghost", agent="x", recorded_by="t", now=now)
    with pytest.raises(RecordRefused, match=r"place: 'nowhere': no such place"):
        records.place_ref(conn, "nowhere")
    with pytest.raises(RecordRefused, match=r"'p9': rounds_per_day: 0: between 1 and 48"):
        records.add_place(conn, "p9", name="X", kind="toilet", rounds_per_day=0)
    with pytest.raises(RecordRefused, match=r"'p9': village: 'V9': no such village"):
        records.add_place(conn, "p9", name="X", kind="toilet", rounds_per_day=2, village="V9")
