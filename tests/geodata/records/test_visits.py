"""Households due today, checked against an independent pandas computation on the sample town."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, text

from geodata.auth.access import Principal
from geodata.errors import ConfigError, ConflictError, NotFoundError
from geodata.records import quarantines
from geodata.records.due_visits import due_today
from geodata.records.refusal import RecordRefused
from geodata.records.visits import MAX_FEVER_COUNT, Temperature, record_visit
from geodata.town_time import TOWN_TIMEZONE
from geodata.vocab import Role, VisitResult
from tests import conftest


def test_due_today_matches_the_rules(sample_conn: Connection) -> None:
    grid_id, code = sample_conn.execute(
        text(
            "SELECT g.id, g.code FROM grids g JOIN households h ON h.grid_id = g.id "
            "WHERE h.status = 'home_quarantine' GROUP BY g.id ORDER BY count(*) DESC LIMIT 1"
        )
    ).one()
    day = datetime.now(TOWN_TIMEZONE).date()
    expected = {r["id"] for r in _expected_due(sample_conn, int(grid_id), day)}
    worker = Principal(name="w", role=Role.GRID_WORKER, grid_ids=frozenset({int(grid_id)}))
    rows = due_today(sample_conn, worker, day=day, limit=5000)
    assert expected, "the sample town has households due today"
    assert {r["id"] for r in rows} == expected
    assert {r["grid"] for r in rows} <= {code}
    reasons = [r["reason"] for r in rows]
    assert reasons == sorted(reasons, key=lambda r: r != "quarantine")  # quarantine first


def _expected_due(conn: Connection, grid_id: int, day: date) -> list[dict[str, Any]]:
    """A grid's due list computed apart in pandas, every field, in the list's order."""
    households = pd.read_sql(
        text("SELECT h.id, g.code AS grid, b.source_id AS building, h.unit, h.room, h.status"
             " FROM households h JOIN grids g ON g.id = h.grid_id"
             " LEFT JOIN buildings b ON b.id = h.building_id WHERE h.grid_id = :g"),
        conn, params={"g": grid_id},
    )  # fmt: skip
    visits = pd.read_sql(
        text("SELECT household_id, visited_at, result FROM visits WHERE grid_id = :g"),
        conn, params={"g": grid_id},
    )  # fmt: skip
    quarantines = pd.read_sql(
        text("SELECT r.household_id, q.type, q.starts_at, coalesce(q.released_at, q.ends_at)"
             " AS until FROM quarantines q JOIN residents r ON r.id = q.resident_id"
             " JOIN households h ON h.id = r.household_id WHERE h.grid_id = :g"),
        conn, params={"g": grid_id},
    )  # fmt: skip
    start = pd.Timestamp(day, tz=TOWN_TIMEZONE)
    end = start + timedelta(days=1)
    # Seen: a visit that found someone; in quarantine: at home, some time during the day.
    visits = visits[visits["result"].isin(["seen_all", "partial"])]
    at = pd.to_datetime(visits["visited_at"], utc=True)
    today = visits[(at >= start) & (at < end)].groupby("household_id").size()
    last = visits[at < end].assign(at=at).groupby("household_id")["at"].max()
    q_start = pd.to_datetime(quarantines["starts_at"], utc=True)
    q_until = pd.to_datetime(quarantines["until"], utc=True)
    at_home = quarantines["type"].isin(["home", "observation"])
    in_quarantine = set(quarantines[at_home & (q_start < end) & (q_until > start)]["household_id"])
    rows: list[dict[str, Any]] = []
    for record in households.to_dict("records"):
        h = {str(k): v for k, v in record.items()}
        hid = int(h["id"])
        seen_today = int(today.get(hid, 0))
        last_at = last[hid].to_pydatetime() if hid in last.index else None
        quarantined = hid in in_quarantine
        if quarantined:
            due = seen_today < 2
        else:
            due = last_at is None or last_at < start - timedelta(days=13)
        if due:
            reason = "quarantine" if quarantined else "screening" if last_at else "never visited"
            rows.append({
                **h, "id": hid, "visits_today": seen_today, "last_visit": last_at,
                "reason": reason,
            })  # fmt: skip
    rows.sort(
        key=lambda r: (r["reason"] != "quarantine", r["last_visit"] is not None,
                       r["last_visit"] or datetime.min.replace(tzinfo=UTC), r["id"])
    )  # fmt: skip
    return rows


def test_due_rows_field_by_field_in_order_at_the_edges_of_the_day(sample_conn: Connection) -> None:
    """Every field and the order, with visits on the day's edges: a quarantined household seen
    once today (due) and one seen twice (not), a nobody-home visit and a visit of the next day
    (neither counts), a household last seen just inside and one just outside the window."""
    conn = sample_conn
    day = datetime.now(TOWN_TIMEZONE).date()
    start = datetime.combine(day, datetime.min.time(), TOWN_TIMEZONE)
    end = start + timedelta(days=1)
    grid_id = conn.execute(
        text(
            "SELECT h.grid_id FROM quarantines q JOIN residents r ON r.id = q.resident_id"
            " JOIN households h ON h.id = r.household_id WHERE q.type IN ('home', 'observation')"
            " AND q.starts_at < :end AND coalesce(q.released_at, q.ends_at) > :start"
            " GROUP BY h.grid_id ORDER BY count(DISTINCT h.id) DESC LIMIT 1"
        ),
        {"start": start, "end": end},
    ).scalar_one()
    quarantined = list(
        conn.execute(
            text(
                "SELECT h.id FROM quarantines q JOIN residents r ON r.id = q.resident_id"
                " JOIN households h ON h.id = r.household_id WHERE h.grid_id = :g"
                " AND q.type IN ('home', 'observation') AND q.starts_at < :end"
                " AND coalesce(q.released_at, q.ends_at) > :start GROUP BY h.id ORDER BY"
                " (SELECT count(*) FROM residents x WHERE x.household_id = h.id) DESC, h.id"
            ),
            {"g": grid_id, "start": start, "end": end},
        ).scalars()
    )
    others = list(
        conn.execute(
            text(
                "SELECT h.id FROM households h WHERE h.grid_id = :g AND h.id <> ALL(:q)"
                " ORDER BY h.id LIMIT 2"
            ),
            {"g": grid_id, "q": quarantined},
        ).scalars()
    )
    assert len(quarantined) >= 2, "the sample has quarantined households today"
    assert len(others) == 2
    once, twice = quarantined[:2]
    inside, outside = others
    window_starts = start - timedelta(days=13)
    edges = [
        (once, start, "seen_all"),
        (once, start + timedelta(hours=2), "nobody_home"),
        (once, end, "seen_all"),  # the next day
        (twice, start + timedelta(hours=1), "partial"),
        (twice, end - timedelta(seconds=1), "seen_all"),
        (inside, window_starts, "seen_all"),
        (outside, window_starts - timedelta(seconds=1), "seen_all"),
    ]
    # A second person of the household quarantined: the household is listed once.
    resident = conn.execute(
        text(
            "SELECT r.source_id FROM residents r WHERE r.household_id = :h AND NOT EXISTS"
            " (SELECT 1 FROM quarantines q WHERE q.resident_id = r.id) ORDER BY r.id LIMIT 1"
        ),
        {"h": once},
    ).scalar_one()
    quarantines.add(
        conn,
        quarantines.NewQuarantine(
            resident=resident, type="home", reason="fever", start=start - timedelta(days=1)
        ),
        actor="test",
    )
    conn.execute(
        text("DELETE FROM visits WHERE household_id IN (:i, :o)"), {"i": inside, "o": outside}
    )
    for n, (household, at, result) in enumerate(edges):
        conn.execute(
            text(
                "INSERT INTO visits (source_id, household_id, grid_id, visited_at, result,"
                " fever_count) SELECT :s, h.id, h.grid_id, :at, :r, 0 FROM households h"
                " WHERE h.id = :h"
            ),
            {"s": f"due-edge-{n}", "h": household, "at": at, "r": result},
        )
    worker = Principal(name="w", role=Role.GRID_WORKER, grid_ids=frozenset({int(grid_id)}))
    rows = due_today(conn, worker, day=day, limit=5000)
    got = [
        {**r, "last_visit": datetime.fromisoformat(r["last_visit"]) if r["last_visit"] else None}
        for r in rows
    ]
    expected = _expected_due(conn, int(grid_id), day)
    assert got == expected
    event = conn.execute(
        text(
            "SELECT action, object_ids, row_count FROM audit_events WHERE actor = 'w'"
            " AND object_type = 'visit_due' ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert tuple(event) == ("list", [r["id"] for r in rows], len(rows))
    by_id = {r["id"]: r for r in got}
    assert by_id[once]["visits_today"] == 1
    assert by_id[once]["reason"] == "quarantine"
    assert twice not in by_id
    assert inside not in by_id
    assert by_id[outside]["reason"] == "screening"


STALE = text(
    "SELECT count(*) FROM households h WHERE h.last_visited_at IS DISTINCT FROM "
    "(SELECT max(v.visited_at) FROM visits v WHERE v.household_id = h.id)"
)
"""Households whose kept latest visit differs from their visits."""


def test_households_keep_their_latest_visit(sample_conn: Connection) -> None:
    conn = sample_conn
    assert conn.execute(STALE).scalar_one() == 0  # loaded by COPY
    a, b = conn.execute(
        text(
            "SELECT household_id FROM visits GROUP BY household_id HAVING count(*) >= 2 "
            "ORDER BY household_id LIMIT 2"
        )
    ).scalars()
    later = datetime.now(TOWN_TIMEZONE) + timedelta(days=1)
    conn.execute(
        text(
            "INSERT INTO visits (source_id, household_id, grid_id, visited_at, result, "
            "fever_count) SELECT 'kept-' || h.id, h.id, h.grid_id, :at, 'seen_all', 0 "
            "FROM households h WHERE h.id IN (:a, :b)"
        ),
        {"at": later, "a": a, "b": b},
    )
    latest = text("SELECT last_visited_at FROM households WHERE id = :h")
    assert conn.execute(latest, {"h": a}).scalar_one() == later
    assert conn.execute(STALE).scalar_one() == 0
    conn.execute(
        text(
            "UPDATE visits SET visited_at = visited_at - interval '400 days' WHERE source_id = :s"
        ),
        {"s": f"kept-{a}"},
    )
    assert conn.execute(latest, {"h": a}).scalar_one() < later
    assert conn.execute(STALE).scalar_one() == 0
    conn.execute(text("DELETE FROM visits WHERE household_id = :b"), {"b": b})
    assert conn.execute(latest, {"h": b}).scalar_one() is None
    conn.execute(
        text("DELETE FROM visits WHERE id = (SELECT max(id) FROM visits WHERE household_id = :a)"),
        {"a": a},
    )
    assert conn.execute(STALE).scalar_one() == 0
    conn.execute(text("TRUNCATE visits"))
    assert (
        conn.execute(
            text("SELECT count(*) FROM households WHERE last_visited_at IS NOT NULL")
        ).scalar_one()
        == 0
    )


def test_a_grid_workers_visit_updates_its_household(sample_db: conftest.TestDatabase) -> None:
    """The worker's role may write the visit (row-level security); the trigger keeps the
    household's latest visit whatever the role."""
    with sample_db.app.connect() as conn, conn.begin() as outer:
        with sample_db.owner.connect() as owner:
            household, grid = owner.execute(
                text("SELECT id, grid_id FROM households WHERE grid_id IS NOT NULL LIMIT 1")
            ).one()
        worker = Principal(name="w", role=Role.GRID_WORKER, grid_ids=frozenset({int(grid)}))
        at = datetime.now(TOWN_TIMEZONE).replace(microsecond=0)
        record_visit(
            conn, worker, int(household), result=VisitResult.SEEN_ALL, fever_count=0,
            idempotency_key="kept-latest-1", at=at,
        )  # fmt: skip
        kept = conn.execute(
            text("SELECT last_visited_at FROM households WHERE id = :h"), {"h": household}
        ).scalar_one()
        assert kept == at
        outer.rollback()


@pytest.mark.parametrize("fever", [-1, MAX_FEVER_COUNT + 1, 2**40])
def test_a_fever_count_out_of_range_is_refused_by_name(sample_conn: Connection, fever: int) -> None:
    worker = Principal(name="w", role=Role.GRID_WORKER, grid_ids=frozenset({1}))
    with pytest.raises(ConfigError, match=r"^fever_count: a count from 0 to 1000$"):
        record_visit(
            sample_conn, worker, 1, result=VisitResult.SEEN_ALL, fever_count=fever,
            idempotency_key="fever-range-1",
        )  # fmt: skip


def test_a_linked_users_visit_names_the_worker(sample_db: conftest.TestDatabase) -> None:
    """A visit recorded by an account linked to a staff member stores them as the worker;
    an account not linked leaves the worker empty."""
    with sample_db.app.connect() as conn, conn.begin() as outer:
        with sample_db.owner.connect() as owner:
            household, grid = owner.execute(
                text("SELECT id, grid_id FROM households WHERE grid_id IS NOT NULL LIMIT 1")
            ).one()
            staff = owner.execute(text("SELECT id FROM staff ORDER BY id LIMIT 1")).scalar_one()
        user = conn.execute(
            text("INSERT INTO users (username, role, staff_id) "
                 "VALUES ('linked-w', 'grid_worker', :s) RETURNING id"),
            {"s": staff},
        ).scalar_one()  # fmt: skip
        linked = Principal(name="linked-w", role=Role.GRID_WORKER, user_id=int(user),
                           grid_ids=frozenset({int(grid)}))  # fmt: skip
        unlinked = Principal(name="w", role=Role.GRID_WORKER, grid_ids=frozenset({int(grid)}))
        ids = [
            record_visit(
                conn, who, int(household), result=VisitResult.SEEN_ALL, fever_count=0,
                idempotency_key=f"worker-{who.name}",
            )["visit"]
            for who in (linked, unlinked)
        ]  # fmt: skip
        workers = conn.execute(
            text("SELECT id, worker_id FROM visits WHERE id = ANY(:i)"), {"i": ids}
        ).all()
        assert dict(workers) == {ids[0]: staff, ids[1]: None}
        outer.rollback()


def test_a_released_person_leaves_the_quarantine_list(sample_conn: Connection) -> None:
    day = datetime.now(TOWN_TIMEZONE).date()
    everyone = Principal(name="a", role=Role.ADMIN)
    before = {r["id"]: r["reason"] for r in due_today(sample_conn, everyone, day=day, limit=5000)}
    hid = next(h for h, why in before.items() if why == "quarantine")
    released_at = datetime.combine(day, datetime.min.time(), TOWN_TIMEZONE) - timedelta(hours=1)
    sample_conn.execute(
        text(
            "UPDATE quarantines q SET status = 'released', released_at = :at FROM residents r"
            " WHERE r.id = q.resident_id AND r.household_id = :h"
        ),
        {"at": released_at, "h": hid},
    )
    after = {r["id"]: r["reason"] for r in due_today(sample_conn, everyone, day=day, limit=5000)}
    assert after.get(hid) != "quarantine"  # the household's status alone keeps nobody


# -- the sync contract: replays, conflicts, refusals, temperatures ---------------------------

SYNC_NOW = datetime(2026, 3, 1, 10, 0, tzinfo=TOWN_TIMEZONE)


def _quarantined_household(conn: Connection) -> tuple[int, int, str]:
    """A household with a resident put in home quarantine the day before SYNC_NOW: (household,
    grid, the resident's source id)."""
    household, grid, resident = conn.execute(
        text(
            "SELECT h.id, h.grid_id, r.source_id FROM residents r"
            " JOIN households h ON h.id = r.household_id WHERE h.grid_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM quarantines x WHERE x.resident_id = r.id)"
            " ORDER BY r.id LIMIT 1"
        )
    ).one()
    quarantines.add(
        conn,
        quarantines.NewQuarantine(
            resident=resident, type="home", reason="fever", start=SYNC_NOW - timedelta(days=1)
        ),
        actor="test",
    )
    return int(household), int(grid), str(resident)


def _sync(conn: Connection, grid: int, household: int, key: str, **kw: Any) -> dict[str, Any]:
    worker = Principal(name="w", role=Role.GRID_WORKER, grid_ids=frozenset({grid}))
    kw.setdefault("result", VisitResult.PARTIAL)
    kw.setdefault("fever_count", 0)
    kw.setdefault("at", SYNC_NOW - timedelta(minutes=5))
    return record_visit(conn, worker, household, idempotency_key=key, now=SYNC_NOW, **kw)


def _visits(conn: Connection, key: str) -> int:
    return _count(conn, "SELECT count(*) FROM visits WHERE source_id = 'visit:w:' || :k", k=key)


def _count(conn: Connection, sql: str, **params: Any) -> int:
    return int(conn.execute(text(sql), params).scalar_one())


def test_a_replay_answers_the_same_and_writes_once(sample_conn: Connection) -> None:
    household, grid, _ = _quarantined_household(sample_conn)
    first = _sync(sample_conn, grid, household, "sync-replay-1", people_seen=3)
    again = _sync(sample_conn, grid, household, "sync-replay-1", people_seen=3)
    assert first == again
    assert first["people_seen"] == 3
    assert first["household"] == household
    assert _visits(sample_conn, "sync-replay-1") == 1
    stored = "SELECT people_seen FROM visits WHERE id = :v"
    assert _count(sample_conn, stored, v=first["visit"]) == 3
    # audited once, when written (a replay writes nothing), as audit.record writes it
    assert _visit_events(sample_conn, household) == [("w", [household], 1, "null", None)]


def _visit_events(conn: Connection, household: int) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        text(
            "SELECT actor, object_ids, row_count, jsonb_typeof(detail), detail->>'checks'"
            " FROM audit_events WHERE action = 'visit_record' AND object_type = 'household'"
            " AND object_ids = ARRAY[:h]::bigint[] ORDER BY id"
        ),
        {"h": household},
    ).all()
    return [tuple(r) for r in rows]


def test_the_same_key_with_another_body_or_household_is_a_conflict(
    sample_conn: Connection,
) -> None:
    household, grid, _ = _quarantined_household(sample_conn)
    _sync(sample_conn, grid, household, "sync-conflict-1", people_seen=2)
    with pytest.raises(ConflictError, match="another body"):
        _sync(sample_conn, grid, household, "sync-conflict-1", people_seen=1)
    with pytest.raises(ConflictError, match="another body"):
        _sync(sample_conn, grid, household, "sync-conflict-1", people_seen=2, fever_count=1)
    other = _count(
        sample_conn, "SELECT id FROM households WHERE grid_id = :g AND id <> :h LIMIT 1",
        g=grid, h=household,
    )  # fmt: skip
    with pytest.raises(ConflictError, match="another household"):
        _sync(sample_conn, grid, other, "sync-conflict-1", people_seen=2)
    assert _visits(sample_conn, "sync-conflict-1") == 1


def test_visit_times_in_the_future_or_over_a_week_back_are_refused(
    sample_conn: Connection,
) -> None:
    household, grid, _ = _quarantined_household(sample_conn)
    with pytest.raises(ConfigError, match=r"^visited_at: in the future$"):
        _sync(sample_conn, grid, household, "sync-future-1", at=SYNC_NOW + timedelta(hours=1))
    week = SYNC_NOW - timedelta(days=7, hours=1)
    with pytest.raises(ConfigError, match="more than 7 days ago"):
        _sync(sample_conn, grid, household, "sync-old-1", at=week)
    late = _sync(sample_conn, grid, household, "sync-old-2", at=week, late=True)
    assert late["visited_at"] == week.astimezone(UTC).isoformat()
    # a few minutes of a phone's clock ahead of the server are no future
    _sync(sample_conn, grid, household, "sync-skew-1", at=SYNC_NOW + timedelta(minutes=2))


def test_a_household_outside_the_workers_grids_is_not_found(sample_conn: Connection) -> None:
    household, grid, _ = _quarantined_household(sample_conn)
    other_grid = _count(sample_conn, "SELECT id FROM grids WHERE id <> :g LIMIT 1", g=grid)
    with pytest.raises(NotFoundError):
        _sync(sample_conn, other_grid, household, "sync-scope-1")


def test_temperatures_become_quarantine_checks_once(sample_conn: Connection) -> None:
    household, grid, resident = _quarantined_household(sample_conn)
    temps = [Temperature(resident, "07:00-12:00", 37.5)]
    first = _sync(sample_conn, grid, household, "sync-temp-1", temperatures=temps)
    again = _sync(sample_conn, grid, household, "sync-temp-1", temperatures=temps)
    assert first == again
    [check] = first["checks"]
    assert (check["resident"], check["temperature_c"], check["fever"]) == (resident, 37.5, True)
    assert check["fever_alert"] is not None
    checks = "SELECT count(*) FROM quarantine_checks WHERE quarantine_id = :q"
    assert _count(sample_conn, checks, q=check["quarantine"]) == 1
    alerts = "SELECT count(*) FROM fever_alerts WHERE quarantine_id = :q"
    assert _count(sample_conn, alerts, q=check["quarantine"]) == 1
    assert _visit_events(sample_conn, household) == [("w", [household], 1, "object", "1")]
    # the due list's window label names the same window
    start, end = quarantines.windows(sample_conn, SYNC_NOW.date())[0]
    label = f"{start.isoformat()}/{end.isoformat()}"
    other = _sync(sample_conn, grid, household, "sync-temp-2",
                  temperatures=[Temperature(resident, label, "36.6")])  # fmt: skip
    assert other["checks"][0]["temperature_c"] == 36.6
    assert _count(sample_conn, checks, q=check["quarantine"]) == 2


@pytest.mark.parametrize(
    ("temperature", "window", "message"),
    [
        (45.0, "07:00-12:00", "outside 34.0-43.0"),
        (98.6, "07:00-12:00", "looks like °F"),
        (36.5, "14:00-20:00", "outside 14:00-20:00"),
        (36.5, "09:00-10:00", "not one of the day's check windows"),
    ],
)
def test_a_bad_temperature_is_refused_and_writes_nothing(
    sample_conn: Connection, temperature: float, window: str, message: str
) -> None:
    household, grid, resident = _quarantined_household(sample_conn)
    with pytest.raises(RecordRefused, match=message):
        _sync(sample_conn, grid, household, "sync-badtemp-1",
              temperatures=[Temperature(resident, window, temperature)])  # fmt: skip
    assert _visits(sample_conn, "sync-badtemp-1") == 0


def test_a_temperature_of_someone_not_in_quarantine_here_is_refused(
    sample_conn: Connection,
) -> None:
    household, grid, _ = _quarantined_household(sample_conn)
    stranger = sample_conn.execute(
        text("SELECT source_id FROM residents WHERE household_id <> :h LIMIT 1"),
        {"h": household},
    ).scalar_one()
    with pytest.raises(RecordRefused, match="no quarantine of this household"):
        _sync(sample_conn, grid, household, "sync-stranger-1",
              temperatures=[Temperature(stranger, "07:00-12:00", 36.5)])  # fmt: skip
