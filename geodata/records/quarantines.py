"""Quarantine records: a person's quarantine from start to release, its changes and its
temperature checks (migration 0014). Days, windows and end dates are the town's.

A quarantine is active from `starts_at` until `ends_at` (start + the type's days, a town
setting) unless released early; at its end it is released with nobody acting
(`release_due`), written as a change and reported to the caller to audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geodata.errors import ConflictError
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import setting, town_timezone

TYPES = ("home", "observation", "concentrated")
REASONS = ("returnee", "close_contact", "fever", "other")
STATUSES = ("active", "released", "transferred")
LOW_C, HIGH_C = Decimal("34.0"), Decimal("43.0")
FAHRENHEIT = (Decimal("93"), Decimal("109"))
FEVER_C = Decimal("37.3")
ESCALATE_AFTER = timedelta(hours=2)


@dataclass(frozen=True)
class NewQuarantine:
    resident: str
    type: str
    reason: str
    start: datetime
    origin: str | None = None
    case_ref: str | None = None
    days: int | None = None


def _resident(conn: Connection, source_id: str) -> Any:
    row = conn.execute(
        text(
            "SELECT r.id, coalesce(r.grid_id, h.grid_id) AS grid_id FROM residents r"
            " JOIN households h ON h.id = r.household_id WHERE r.source_id = :s"
        ),
        {"s": source_id},
    ).first()
    if row is None:
        raise RecordRefused(f"resident {source_id!r}: unknown resident")
    return row


def resident_grid(conn: Connection, source_id: str) -> int | None:
    """The grid of a resident (theirs, else their household's); a refusal when unknown."""
    grid = _resident(conn, source_id).grid_id
    return None if grid is None else int(grid)


def add(conn: Connection, new: NewQuarantine, *, actor: str) -> dict[str, Any]:
    """A new active quarantine; refused when the person has one already."""
    who = f"quarantine of {new.resident!r}"
    if new.type not in TYPES:
        raise RecordRefused(f"{who}: type: one of {', '.join(TYPES)}")
    if new.reason not in REASONS:
        raise RecordRefused(f"{who}: reason: one of {', '.join(REASONS)}")
    if new.reason == "returnee" and not (new.origin or "").strip():
        raise RecordRefused(f"{who}: origin: required for a returnee")
    if new.start.tzinfo is None:
        raise RecordRefused(f"{who}: start: needs a time zone")
    days = new.days if new.days is not None else int(setting(conn, f"quarantine_days_{new.type}"))
    if not 1 <= days <= 60:
        raise RecordRefused(f"{who}: days: between 1 and 60 (the end must be after the start)")
    resident = _resident(conn, new.resident)
    zone = town_timezone(conn)
    ends = (new.start.astimezone(zone) + timedelta(days=days)).astimezone(zone)
    active = conn.execute(
        text("SELECT id FROM quarantines WHERE resident_id = :r AND status = 'active'"),
        {"r": resident.id},
    ).scalar()
    if active is not None:
        raise ConflictError(f"{who}: resident: already in active quarantine {active}")
    try:
        with conn.begin_nested():
            qid = conn.execute(
                text(
                    "INSERT INTO quarantines (resident_id, grid_id, type, reason, origin,"
                    " case_ref, starts_at, ends_at, created_by) VALUES (:r, :g, :t, :why, :o,"
                    " :c, :s, :e, :by) RETURNING id"
                ),
                {"r": resident.id, "g": resident.grid_id, "t": new.type, "why": new.reason,
                 "o": new.origin, "c": new.case_ref, "s": new.start, "e": ends, "by": actor},
            ).scalar_one()  # fmt: skip
    except IntegrityError as exc:
        if "uq_quarantines_one_active" in str(exc.orig):
            raise ConflictError(f"{who}: resident: already in an active quarantine") from None
        raise
    found = get(conn, int(qid))
    assert found is not None
    return found


_SELECT = (
    "SELECT q.id, r.source_id AS resident, g.code AS grid, q.grid_id, q.type, q.reason,"
    " q.origin, q.starts_at, q.ends_at, q.status, q.released_at, q.version"
    " FROM quarantines q JOIN residents r ON r.id = q.resident_id"
    " LEFT JOIN grids g ON g.id = q.grid_id"
)


def _public(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "resident": row.resident,
        "grid": row.grid,
        "type": row.type,
        "reason": row.reason,
        "start": row.starts_at.isoformat(),
        "end": row.ends_at.isoformat(),
        "status": row.status,
        "released_at": None if row.released_at is None else row.released_at.isoformat(),
        "version": int(row.version),
    }


def get(conn: Connection, quarantine_id: int) -> dict[str, Any] | None:
    row = conn.execute(text(_SELECT + " WHERE q.id = :i"), {"i": quarantine_id}).first()
    return None if row is None else _public(row) | {"grid_id": row.grid_id}


def list_quarantines(conn: Connection, *, status: str | None = None) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise RecordRefused(f"status: one of {', '.join(STATUSES)}")
    rows = conn.execute(
        text(_SELECT + " WHERE CAST(:s AS text) IS NULL OR q.status = :s ORDER BY q.id"),
        {"s": status},
    ).all()
    return [_public(r) | {"grid_id": r.grid_id} for r in rows]


def release_due(conn: Connection, now: datetime) -> list[int]:
    """Release every active quarantine whose end has come, at its end, with a change row
    each; returns their ids (none the second time)."""
    released = conn.execute(
        text(
            "UPDATE quarantines SET status = 'released', released_at = ends_at,"
            " version = version + 1 WHERE status = 'active' AND ends_at <= :now"
            " RETURNING id, grid_id, ends_at"
        ),
        {"now": now},
    ).all()
    if released:
        conn.execute(
            text(
                "INSERT INTO quarantine_changes (quarantine_id, grid_id, kind, at, reason,"
                " decided_by) SELECT unnest(CAST(:ids AS bigint[])),"
                " unnest(CAST(:grids AS bigint[])), 'release',"
                " unnest(CAST(:ats AS timestamptz[])), 'end date', 'wangge'"
            ),
            {"ids": [r.id for r in released], "grids": [r.grid_id for r in released],
             "ats": [r.ends_at for r in released]},
        )  # fmt: skip
    return [int(r.id) for r in released]


def release(conn: Connection, quarantine_id: int, *, at: datetime, reason: str, by: str) -> bool:
    """Release early (or at the end); False, changing nothing, when it is not active."""
    row = conn.execute(
        text("SELECT status, starts_at, grid_id FROM quarantines WHERE id = :i FOR UPDATE"),
        {"i": quarantine_id},
    ).first()
    if row is None:
        raise RecordRefused(f"quarantine {quarantine_id}: unknown quarantine")
    if row.status != "active":
        return False
    if at < row.starts_at:
        raise RecordRefused(f"quarantine {quarantine_id}: at: before the quarantine starts")
    conn.execute(
        text(
            "UPDATE quarantines SET status = 'released', released_at = :at,"
            " version = version + 1 WHERE id = :i"
        ),
        {"i": quarantine_id, "at": at},
    )
    _change(conn, quarantine_id, row.grid_id, "release_early", at, None, reason, by)
    return True


def extend(
    conn: Connection, quarantine_id: int, *, days: int, at: datetime, reason: str, by: str
) -> datetime:
    """Move an active quarantine's end `days` later; returns the new end."""
    row = conn.execute(
        text("SELECT status, ends_at, grid_id FROM quarantines WHERE id = :i FOR UPDATE"),
        {"i": quarantine_id},
    ).first()
    if row is None:
        raise RecordRefused(f"quarantine {quarantine_id}: unknown quarantine")
    if row.status != "active":
        raise RecordRefused(f"quarantine {quarantine_id}: status: {row.status}, not active")
    if not 1 <= days <= 60:
        raise RecordRefused(f"quarantine {quarantine_id}: days: between 1 and 60")
    ends = row.ends_at + timedelta(days=days)
    conn.execute(
        text("UPDATE quarantines SET ends_at = :e, version = version + 1 WHERE id = :i"),
        {"i": quarantine_id, "e": ends},
    )
    _change(conn, quarantine_id, row.grid_id, "extend", at, ends, reason, by)
    return ends  # type: ignore[no-any-return]


def _change(conn: Connection, qid: int, grid_id: int | None, kind: str, at: datetime,
            ends: datetime | None, reason: str | None, by: str) -> None:  # fmt: skip
    conn.execute(
        text(
            "INSERT INTO quarantine_changes (quarantine_id, grid_id, kind, at, ends_at, reason,"
            " decided_by) VALUES (:q, :g, :k, :at, :e, :why, :by)"
        ),
        {"q": qid, "g": grid_id, "k": kind, "at": at, "e": ends, "why": reason, "by": by},
    )


def temperature(value: str | float | Decimal, who: str) -> Decimal:
    """A temperature in °C with one decimal, or a refusal (with a hint for °F)."""
    try:
        found = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise RecordRefused(f"{who}: temperature_c: not a number") from None
    if FAHRENHEIT[0] <= found <= FAHRENHEIT[1]:
        celsius = ((found - 32) * 5 / 9).quantize(Decimal("0.1"))
        raise RecordRefused(f"{who}: temperature_c: {found} looks like °F ({celsius} °C); give °C")
    if not LOW_C <= found <= HIGH_C:
        raise RecordRefused(f"{who}: temperature_c: outside {LOW_C}-{HIGH_C} °C")
    return found


def record_check(
    conn: Connection,
    quarantine_id: int,
    *,
    temperature_c: str | float | Decimal,
    at: datetime,
    by: str,
    key: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """A check of an active quarantine; with an idempotency key seen before, the check
    written then and False (nothing new)."""
    who = f"quarantine {quarantine_id}"
    if key is not None:
        seen = _check_by_key(conn, key)
        if seen is not None:
            return seen, False
    celsius = temperature(temperature_c, who)
    row = conn.execute(
        text("SELECT starts_at, ends_at, status, released_at, grid_id FROM quarantines"
             " WHERE id = :i"),
        {"i": quarantine_id},
    ).first()  # fmt: skip
    if row is None:
        raise RecordRefused(f"{who}: unknown quarantine")
    until = row.released_at or row.ends_at
    if not row.starts_at <= at < until:
        raise RecordRefused(f"{who}: checked_at: outside the quarantine ({row.status})")
    check_id = conn.execute(
        text(
            "INSERT INTO quarantine_checks (quarantine_id, grid_id, checked_at, temperature_c,"
            " recorded_by, idempotency_key) VALUES (:q, :g, :at, :t, :by, :k) RETURNING id"
        ),
        {"q": quarantine_id, "g": row.grid_id, "at": at, "t": celsius, "by": by, "k": key},
    ).scalar_one()
    alert = None
    if celsius >= FEVER_C:
        alert = conn.execute(
            text(
                "INSERT INTO fever_alerts (quarantine_id, check_id, grid_id, opened_at,"
                " temperature_c) VALUES (:q, :c, :g, :at, :t) RETURNING id"
            ),
            {"q": quarantine_id, "c": check_id, "g": row.grid_id, "at": at, "t": celsius},
        ).scalar_one()
    done = {"quarantine": quarantine_id, "checked_at": at.astimezone(UTC).isoformat(),
            "temperature_c": float(celsius), "fever": celsius >= FEVER_C,
            "fever_alert": None if alert is None else int(alert)}  # fmt: skip
    return done, True


def _check_by_key(conn: Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(
        text("SELECT c.quarantine_id, c.checked_at, c.temperature_c, a.id AS alert"
             " FROM quarantine_checks c LEFT JOIN fever_alerts a ON a.check_id = c.id"
             " WHERE c.idempotency_key = :k"),
        {"k": key},
    ).first()  # fmt: skip
    if row is None:
        return None
    return {"quarantine": int(row.quarantine_id),
            "checked_at": row.checked_at.astimezone(UTC).isoformat(),
            "temperature_c": float(row.temperature_c),
            "fever": row.temperature_c >= FEVER_C,
            "fever_alert": None if row.alert is None else int(row.alert)}  # fmt: skip


def windows(conn: Connection, day: date) -> list[tuple[datetime, datetime]]:
    """The day's check windows as aware datetimes in the town's zone."""
    zone = town_timezone(conn)
    out = []
    for span in str(setting(conn, "check_windows")).split(","):
        a, b = span.split("-")
        start = datetime.combine(day, time.fromisoformat(a), tzinfo=zone)
        end = (
            datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
            if b == "24:00"
            else datetime.combine(day, time.fromisoformat(b), tzinfo=zone)
        )
        out.append((start, end))
    return out


_DONE = (
    "EXISTS (SELECT 1 FROM quarantine_checks c WHERE c.quarantine_id = q.id"
    " AND c.checked_at >= w.opens AND c.checked_at < w.closes)"
)
"""Whether a check fell in the window (of quarantine `q`, window `w`)."""
_DUE = (
    " FROM unnest(CAST(:opens AS timestamptz[]), CAST(:closes AS timestamptz[]))"
    " WITH ORDINALITY AS w(opens, closes, k)"
    " JOIN quarantines q ON q.starts_at <= w.opens AND w.opens < coalesce(q.released_at, q.ends_at)"
    " LEFT JOIN grids g ON g.id = q.grid_id"
)
"""Every (quarantine, window) due on a day: windows that open while the quarantine is active."""


def _spans(spans: list[tuple[datetime, datetime]]) -> dict[str, Any]:
    return {"opens": [a for a, _ in spans], "closes": [b for _, b in spans]}


def due(conn: Connection, day: date, now: datetime) -> dict[str, Any]:
    """Every check due on a town day: one per window that opens while a quarantine is active
    (from its start to its end or release); `done` when a check falls in the window,
    `missed` when the window has closed without one, `escalate` when it closed more than
    2 h ago. Missed checks are also counted per grid."""
    spans = windows(conn, day)
    rows = conn.execute(
        text(
            "SELECT q.id, r.source_id AS resident, g.code AS grid, w.k, "
            + _DONE
            + " AS done"
            + _DUE
            + " JOIN residents r ON r.id = q.resident_id ORDER BY q.id, w.k"
        ),
        _spans(spans),
    ).all()
    labels = [f"{a.isoformat()}/{b.isoformat()}" for a, b in spans]
    closed = [b <= now for _, b in spans]
    late = [now - b > ESCALATE_AFTER for _, b in spans]
    items: list[dict[str, Any]] = []
    missed_by_grid: dict[str, int] = {}
    for q, resident, grid, k, done in rows:
        w = int(k) - 1
        missed = not done and closed[w]
        items.append({
            "quarantine": int(q), "resident": resident, "grid": grid, "window": labels[w],
            "done": bool(done), "missed": missed, "escalate": missed and late[w],
        })  # fmt: skip
        if missed and grid is not None:
            missed_by_grid[grid] = missed_by_grid.get(grid, 0) + 1
    return {"date": day.isoformat(), "checks": items, "missed_by_grid": missed_by_grid}


def grid_codes(conn: Connection, grid_ids: frozenset[int]) -> list[str]:
    return list(
        conn.execute(
            text("SELECT code FROM grids WHERE id = ANY(:g)"), {"g": sorted(grid_ids)}
        ).scalars()
    )


def alerts(conn: Connection, *, open_only: bool = True) -> list[dict[str, Any]]:
    """Fever alerts (open ones first by default only), with the person and the grid."""
    rows = conn.execute(
        text(
            "SELECT a.id, a.quarantine_id, r.source_id AS resident, g.code AS grid, a.grid_id,"
            " a.opened_at, a.temperature_c, a.closed_at, a.action, a.closed_by"
            " FROM fever_alerts a JOIN quarantines q ON q.id = a.quarantine_id"
            " JOIN residents r ON r.id = q.resident_id LEFT JOIN grids g ON g.id = a.grid_id"
            " WHERE NOT :open OR a.closed_at IS NULL ORDER BY a.opened_at, a.id"
        ),
        {"open": open_only},
    ).all()
    return [
        {
            "id": int(r.id),
            "quarantine": int(r.quarantine_id),
            "resident": r.resident,
            "grid": r.grid,
            "grid_id": r.grid_id,
            "opened_at": r.opened_at.astimezone(UTC).isoformat(),
            "temperature_c": float(r.temperature_c),
            "closed_at": None if r.closed_at is None else r.closed_at.astimezone(UTC).isoformat(),
            "action": r.action,
        }
        for r in rows
    ]


def alert_grid(conn: Connection, alert_id: int) -> int | None:
    row = conn.execute(
        text("SELECT grid_id FROM fever_alerts WHERE id = :i"), {"i": alert_id}
    ).first()
    if row is None:
        raise RecordRefused(f"fever alert {alert_id}: unknown alert")
    return None if row.grid_id is None else int(row.grid_id)


def close_alert(conn: Connection, alert_id: int, *, action: str, by: str, at: datetime) -> bool:
    """Record what was done; False (nothing changed) when it was closed already."""
    if not action.strip():
        raise RecordRefused(f"fever alert {alert_id}: action: required (what was done)")
    done = conn.execute(
        text(
            "UPDATE fever_alerts SET closed_at = :at, action = :a, closed_by = :by"
            " WHERE id = :i AND closed_at IS NULL"
        ),
        {"i": alert_id, "at": at, "a": action.strip(), "by": by},
    ).rowcount
    if not done:
        alert_grid(conn, alert_id)  # unknown: a refusal
    return bool(done)


def checks_per_grid(conn: Connection, day: date, now: datetime) -> dict[str, tuple[int, int]]:
    """Per grid code: checks due on the day and those missed by `now`, counted as `due`
    counts them (the same windows and matches, summed in SQL)."""
    spans = windows(conn, day)
    rows = conn.execute(
        text(
            "SELECT g.code, count(*), count(*) FILTER (WHERE w.closes <= :now AND NOT "
            + _DONE
            + ")"
            + _DUE
            + " WHERE g.code IS NOT NULL GROUP BY g.code"
        ),
        {**_spans(spans), "now": now},
    ).all()
    return {str(code): (int(n), int(missed)) for code, n, missed in rows}
