"""Shifts on patrol zones: one shift, the A/B rota of a zone's period, and the `wangge check`
rules about them. A zone's shifts live with the checkpoints' (`checkpoint_shifts`, with
`patrol_zone_id`), so that nobody is on a patrol and a checkpoint at once, the hours limit
counts both, and the coverage report counts a zone as patrolled from its shifts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text

from geodata.analysis import patrol_duty
from geodata.analysis.duty_rules import Item
from geodata.analysis.rota import Interval
from geodata.records import town_settings
from geodata.records.refusal import RecordRefused
from geodata.records.shifts import (
    Post,
    busy_elsewhere,
    check_times,
    insert_shift,
    rota_people,
    write_rota,
)

PATROL_CHECKS = ("patrol_zone_without_shift", "patrol_team_over_hours")


def zone(conn: Connection, source_id: str) -> Any:
    """A current patrol zone's row (id, source_id, period, village_id, team_id)."""
    row = conn.execute(
        text(
            "SELECT id, source_id, period, village_id, team_id FROM patrol_zones"
            " WHERE source_id = :s AND retired_at IS NULL"
        ),
        {"s": source_id},
    ).one_or_none()
    if row is None:
        raise RecordRefused(f"patrol zone {source_id!r}: unknown patrol zone")
    return row


def add_zone_shift(
    conn: Connection, zone_source_id: str, starts_at: datetime, ends_at: datetime, *, source_id: str
) -> int:
    """A new shift on a patrol zone, nobody on it yet."""
    check_times(source_id, starts_at, ends_at)
    z = zone(conn, zone_source_id)
    return insert_shift(conn, Post("patrol_zone_id", int(z.id)), starts_at, ends_at, source_id)


def zone_rota_source_id(zone_source_id: str, starts_at: datetime) -> str:
    return f"rota:{zone_source_id}:{starts_at.isoformat()}"


def make_zone_rota(
    conn: Connection,
    zone_source_id: str,
    *,
    first_day: date,
    days: int,
    group_a: list[str],
    group_b: list[str],
) -> dict[str, Any]:
    """One shift a duty day over the zone's period window (06:00-18:00 by day, 18:00-06:00
    by night, from the town settings), group A on the first, group B on the next, in turn
    (A/B duty; A every time without a B). The same rota twice changes nothing; refused as a
    whole when a person would overlap another shift or work over the hours limit."""
    z = zone(conn, zone_source_id)
    if not group_a:
        raise RecordRefused("rota: staff: at least one person in group A")
    persons = rota_people(
        conn, [*group_a, *group_b], days, z.village_id, f"patrol zone {zone_source_id!r}"
    )
    clock = town_settings.duty_clock(conn)
    limit = int(town_settings.setting(conn, "hours_limit_per_person"))
    intervals = clock.windows(first_day, days, str(z.period))
    ids = [zone_rota_source_id(zone_source_id, s) for s, _ in intervals]
    busy = busy_elsewhere(conn, persons, ids, intervals)
    try:
        chosen = patrol_duty.ab_rota(intervals, group_a, group_b, busy, limit)
    except patrol_duty.Unfit as unfit:
        raise RecordRefused(
            f"rota of patrol zone {zone_source_id!r}: staff {unfit.person!r} cannot take the "
            f"shift {unfit.shift[0].isoformat()}–{unfit.shift[1].isoformat()}: it overlaps "
            f"another of their shifts or makes more than {limit} h in 24 hours"
        ) from None
    planned = list(zip(ids, intervals, chosen, strict=True))
    written = write_rota(conn, Post("patrol_zone_id", int(z.id)), persons, planned)
    return {"zone": z.source_id, "period": str(z.period), **written}


def _shift_hours(shifts: list[Interval], window: Interval) -> float:
    """Hours these shifts give inside the window: each shift is a party walking, so two
    shifts at once give twice the hours."""
    held = (min(e, window[1]) - max(s, window[0]) for s, e in shifts)
    return sum(max(h.total_seconds(), 0.0) for h in held) / 3600


def patrol_checks(conn: Connection, moment: datetime) -> dict[str, list[Item]]:
    """`patrol_zone_without_shift`: current zones with no staffed shift in their period's
    window of the duty day holding the moment. `patrol_team_over_hours`: zones whose stored
    route needs more hours than their staffed shifts give in that window (a party a shift),
    named with the team that patrols them."""
    clock = town_settings.duty_clock(conn)
    day = clock.duty_day(moment)
    windows = {p: clock.window(day, p) for p in patrol_duty.PERIODS}
    zones = conn.execute(
        text(
            "SELECT z.id, z.source_id, z.period, v.code AS village, t.source_id AS team,"
            " r.hours AS route_hours FROM patrol_zones z"
            " LEFT JOIN villages v ON v.id = z.village_id LEFT JOIN teams t ON t.id = z.team_id"
            " LEFT JOIN patrol_routes r ON r.zone = z.source_id AND r.retired_at IS NULL"
            " WHERE z.retired_at IS NULL ORDER BY z.source_id"
        )
    ).all()
    earliest = min(w[0] for w in windows.values())
    latest = max(w[1] for w in windows.values())
    shifts: dict[int, list[Interval]] = defaultdict(list)
    for zone_id, start, end in conn.execute(
        text(
            "SELECT patrol_zone_id, starts_at, ends_at FROM checkpoint_shifts"
            " WHERE patrol_zone_id IS NOT NULL AND staff_count > 0"
            " AND starts_at < :t AND ends_at > :f"
        ),
        {"f": earliest, "t": latest},
    ):
        shifts[int(zone_id)].append((start, end))
    without: list[Item] = []
    over: list[Item] = []
    for z in zones:
        window = windows[str(z.period)]
        held = _shift_hours(shifts.get(int(z.id), []), window)
        base = {
            "zone": z.source_id,
            "period": str(z.period),
            "village": z.village,
            "hour": window[0].timestamp(),
        }
        if held <= 0:
            without.append(base)
        if z.route_hours is not None and float(z.route_hours) > held + 1e-9:
            over.append(
                {
                    **base,
                    "team": z.team,
                    "route_hours": round(float(z.route_hours), 2),
                    "shift_hours": round(held, 2),
                }
            )
    return {"patrol_zone_without_shift": without, "patrol_team_over_hours": over}
