"""Checkpoint shifts and the people on them: add, assign, unassign, list, and the rota.

The database holds the rules too (a shift ends after it starts; no person on two
overlapping shifts, by an exclusion constraint); here they are checked first so that a
refusal names the person and the shifts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geodata.analysis import rota as plan
from geodata.records import people, town_settings
from geodata.records.refusal import RecordRefused

MAX_SHIFT = timedelta(hours=24)
MAX_ROTA_DAYS = 366


def checkpoint(conn: Connection, source_id: str) -> Any:
    """A checkpoint's row (id, village_id, staff_per_shift), or a refusal."""
    row = conn.execute(
        text("SELECT id, source_id, village_id, staff_per_shift FROM checkpoints "
             "WHERE source_id = :s"),
        {"s": source_id},
    ).one_or_none()  # fmt: skip
    if row is None:
        raise RecordRefused(f"checkpoint {source_id!r}: unknown checkpoint")
    return row


def shift(conn: Connection, source_id: str) -> Any:
    row = conn.execute(
        text("SELECT s.id, s.source_id, s.starts_at, s.ends_at, "
             "coalesce(c.village_id, z.village_id) AS village_id, "
             "c.source_id AS checkpoint, z.source_id AS zone FROM checkpoint_shifts s "
             "LEFT JOIN checkpoints c ON c.id = s.checkpoint_id "
             "LEFT JOIN patrol_zones z ON z.id = s.patrol_zone_id WHERE s.source_id = :s"),
        {"s": source_id},
    ).one_or_none()  # fmt: skip
    if row is None:
        raise RecordRefused(f"shift {source_id!r}: unknown shift")
    return row


def post_of(row: Any) -> str:
    """Where a shift is kept: `checkpoint 'X'` or `patrol zone 'Z'`."""
    if row.checkpoint is not None:
        return f"checkpoint {row.checkpoint!r}"
    return f"patrol zone {row.zone!r}"


def check_times(who: str, starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise RecordRefused(f"shift {who!r}: times need a time zone")
    if ends_at <= starts_at:
        raise RecordRefused(f"shift {who!r}: ends_at: not after starts_at")
    if ends_at - starts_at > MAX_SHIFT:
        raise RecordRefused(f"shift {who!r}: ends_at: more than 24 h after starts_at")


def add_shift(
    conn: Connection, checkpoint_source_id: str, starts_at: datetime, ends_at: datetime,
    *, source_id: str,
) -> int:  # fmt: skip
    """A new shift of a checkpoint, nobody on it yet."""
    check_times(source_id, starts_at, ends_at)
    cp = checkpoint(conn, checkpoint_source_id)
    return insert_shift(conn, Post("checkpoint_id", int(cp.id)), starts_at, ends_at, source_id)


def insert_shift(
    conn: Connection, post: Post, starts_at: datetime, ends_at: datetime, source_id: str
) -> int:
    """A new shift at the post, nobody on it yet (its times checked already); refused when
    the source id is taken."""
    if conn.execute(
        text("SELECT 1 FROM checkpoint_shifts WHERE source_id = :s"), {"s": source_id}
    ).scalar():
        raise RecordRefused(f"shift {source_id!r}: source id exists already")
    return int(
        conn.execute(
            text("INSERT INTO checkpoint_shifts (checkpoint_id, patrol_zone_id, starts_at, "
                 "ends_at, staff_count, source_id) VALUES (:c, :z, :s, :e, 0, :id) RETURNING id"),
            {**post.ids(), "s": starts_at, "e": ends_at, "id": source_id},
        ).scalar_one()
    )  # fmt: skip


def on_duty(conn: Connection, person: Any, who: str) -> None:
    if person.retired_at is not None:
        raise RecordRefused(f"staff {who!r}: retired")


def _overlapping(conn: Connection, staff_id: int, starts_at: datetime, ends_at: datetime) -> str:
    names = conn.execute(
        text("SELECT coalesce(s.source_id, '#' || s.id::text) FROM shift_staff p "
             "JOIN checkpoint_shifts s ON s.id = p.shift_id WHERE p.staff_id = :p "
             "AND tstzrange(p.starts_at, p.ends_at) && tstzrange(:s, :e) ORDER BY p.starts_at"),
        {"p": staff_id, "s": starts_at, "e": ends_at},
    ).scalars().all()  # fmt: skip
    return ", ".join(repr(n) for n in names)


def assign(conn: Connection, shift_source_id: str, staff_source_id: str) -> bool:
    """Put a person on a shift; False when they were on it already."""
    row = shift(conn, shift_source_id)
    person = people.staff(conn, staff_source_id)
    on_duty(conn, person, staff_source_id)
    if row.village_id is not None and person.village_id != row.village_id:
        raise RecordRefused(
            f"staff {staff_source_id!r}: village: not the village of "
            f"{post_of(row)} (shift {shift_source_id!r})"
        )
    if conn.execute(
        text("SELECT 1 FROM shift_staff WHERE shift_id = :s AND staff_id = :p"),
        {"s": row.id, "p": person.id},
    ).scalar():
        return False
    try:
        with conn.begin_nested():
            conn.execute(
                text("INSERT INTO shift_staff (shift_id, staff_id) VALUES (:s, :p)"),
                {"s": row.id, "p": person.id},
            )
    except IntegrityError as exc:
        if "shift_staff_no_overlap" not in str(exc.orig):
            raise
        clash = _overlapping(conn, int(person.id), row.starts_at, row.ends_at)
        raise RecordRefused(
            f"staff {staff_source_id!r}: on shift {clash} already, which overlaps shift "
            f"{shift_source_id!r}"
        ) from None
    return True


def unassign(conn: Connection, shift_source_id: str, staff_source_id: str) -> None:
    row = shift(conn, shift_source_id)
    person = people.staff(conn, staff_source_id)
    done = conn.execute(
        text("DELETE FROM shift_staff WHERE shift_id = :s AND staff_id = :p"),
        {"s": row.id, "p": person.id},
    ).rowcount
    if not done:
        raise RecordRefused(f"staff {staff_source_id!r}: not on shift {shift_source_id!r}")


def list_shifts(
    conn: Connection, *, checkpoint_source_id: str | None = None,
    start: datetime | None = None, end: datetime | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Shifts with their checkpoint or patrol zone, times and people (source ids), by
    start."""
    cp_id = None if checkpoint_source_id is None else checkpoint(conn, checkpoint_source_id).id
    rows = conn.execute(
        text(
            "SELECT s.id, s.source_id, c.source_id AS checkpoint, z.source_id AS zone, "
            "s.starts_at, s.ends_at, "
            "s.staff_count, array(SELECT st.source_id FROM shift_staff p JOIN staff st "
            "ON st.id = p.staff_id WHERE p.shift_id = s.id ORDER BY st.source_id) AS staff "
            "FROM checkpoint_shifts s LEFT JOIN checkpoints c ON c.id = s.checkpoint_id "
            "LEFT JOIN patrol_zones z ON z.id = s.patrol_zone_id "
            "WHERE (CAST(:c AS bigint) IS NULL OR s.checkpoint_id = :c) "
            "AND (CAST(:f AS timestamptz) IS NULL OR s.ends_at > :f) "
            "AND (CAST(:t AS timestamptz) IS NULL OR s.starts_at < :t) "
            "ORDER BY s.starts_at, s.id"
        ),
        {"c": cp_id, "f": start, "t": end},
    ).mappings()
    return [{**row, "staff": list(row["staff"])} for row in rows]


def rota_people(
    conn: Connection, listed: list[str], days: int, village_id: int | None, post: str
) -> dict[str, Any]:
    """The people of a rota by source id, refused unless the days are within bounds and each
    is listed once, serving, and of the post's village (when it has one)."""
    if not 1 <= days <= MAX_ROTA_DAYS:
        raise RecordRefused(f"rota: days: from 1 to {MAX_ROTA_DAYS}")
    if len(set(listed)) != len(listed):
        raise RecordRefused("rota: staff: a person is listed twice")
    persons = {s: people.staff(conn, s) for s in listed}
    for who, person in persons.items():
        on_duty(conn, person, who)
        if village_id is not None and person.village_id != village_id:
            raise RecordRefused(f"staff {who!r}: village: not the village of {post}")
    return persons


def rota_source_id(checkpoint_source_id: str, starts_at: datetime) -> str:
    return f"rota:{checkpoint_source_id}:{starts_at.isoformat()}"


def make_rota(
    conn: Connection, checkpoint_source_id: str, *, first_day: date, days: int,
    pattern: str, staff_source_ids: list[str],
) -> dict[str, Any]:  # fmt: skip
    """The recurring pattern of a checkpoint's shifts with the people given rotated over
    them; the same rota twice changes nothing. Refused as a whole when they cannot cover it."""
    cp = checkpoint(conn, checkpoint_source_id)
    if pattern not in plan.PATTERNS:
        raise RecordRefused(f"rota: pattern: must be one of {', '.join(plan.PATTERNS)}")
    persons = rota_people(
        conn, staff_source_ids, days, cp.village_id, f"checkpoint {checkpoint_source_id!r}"
    )
    tz = town_settings.town_timezone(conn)
    limit = int(town_settings.setting(conn, "hours_limit_per_person"))
    intervals = plan.shifts_of(pattern, first_day, days, tz)
    ids = [rota_source_id(checkpoint_source_id, s) for s, _ in intervals]
    busy = busy_elsewhere(conn, persons, ids, intervals)
    try:
        chosen = plan.assign(intervals, staff_source_ids, cp.staff_per_shift, busy, limit)
    except plan.Uncovered as gap:
        raise RecordRefused(
            f"rota of checkpoint {checkpoint_source_id!r}: shift "
            f"{gap.shift[0].isoformat()}–{gap.shift[1].isoformat()} needs {gap.needed} "
            f"person(s) (staff_per_shift); {gap.free} of the {len(staff_source_ids)} given "
            f"are free there without overlapping another shift or working more than "
            f"{limit} h in 24 hours"
        ) from None
    planned = list(zip(ids, intervals, chosen, strict=True))
    return {"checkpoint": cp.source_id, **write_rota(conn, Post("checkpoint_id", int(cp.id)),
                                                     persons, planned)}  # fmt: skip


def busy_elsewhere(
    conn: Connection, persons: dict[str, Any], ids: list[str], intervals: list[plan.Interval]
) -> dict[str, list[plan.Interval]]:
    """Each person's other shifts near the rota's days (not the rota's own)."""
    by_id = {int(p.id): s for s, p in persons.items()}
    rows = conn.execute(
        text("SELECT p.staff_id, p.starts_at, p.ends_at FROM shift_staff p "
             "JOIN checkpoint_shifts s ON s.id = p.shift_id WHERE p.staff_id = ANY(:p) "
             "AND p.ends_at > :f AND p.starts_at < :t "
             "AND (s.source_id IS NULL OR NOT s.source_id = ANY(:ids))"),
        {"p": list(by_id), "f": intervals[0][0] - plan.DAY, "t": intervals[-1][1] + plan.DAY,
         "ids": ids},
    ).all()  # fmt: skip
    busy: dict[str, list[plan.Interval]] = defaultdict(list)
    for row in rows:
        busy[by_id[int(row.staff_id)]].append((row.starts_at, row.ends_at))
    return busy


@dataclass(frozen=True)
class Post:
    """Where a rota's shifts are kept: the column (checkpoint_id or patrol_zone_id) and id."""

    column: Literal["checkpoint_id", "patrol_zone_id"]
    id: int

    def ids(self) -> dict[str, int | None]:
        """The values of checkpoint_id (`c`) and patrol_zone_id (`z`)."""
        mine = self.column == "checkpoint_id"
        return {"c": self.id if mine else None, "z": None if mine else self.id}


def write_rota(
    conn: Connection, post: Post, persons: dict[str, Any],
    planned: list[tuple[str, plan.Interval, tuple[str, ...]]],
) -> dict[str, Any]:  # fmt: skip
    """Write the planned shifts (source id, times, people) at the post: new ones created,
    others given exactly the people planned; the counts of each."""
    existing = {
        row.source_id: row
        for row in conn.execute(
            text("SELECT s.id, s.source_id, s.starts_at, s.ends_at, "
                 "array(SELECT staff_id FROM shift_staff WHERE shift_id = s.id) AS staff "
                 "FROM checkpoint_shifts s WHERE s.source_id = ANY(:ids)"),
            {"ids": [sid for sid, _, _ in planned]},
        )
    }  # fmt: skip
    created = changed = unchanged = 0
    to_add: list[tuple[int, int]] = []
    for sid, (start, end), chosen in planned:
        want = {int(persons[s].id) for s in chosen}
        row = existing.get(sid)
        if row is None:
            shift_id = int(
                conn.execute(
                    text("INSERT INTO checkpoint_shifts (checkpoint_id, patrol_zone_id, "
                         "starts_at, ends_at, staff_count, source_id) "
                         "VALUES (:c, :z, :s, :e, 0, :id) RETURNING id"),
                    {**post.ids(), "s": start, "e": end, "id": sid},
                ).scalar_one()
            )  # fmt: skip
            created += 1
            to_add.extend((shift_id, p) for p in sorted(want))
            continue
        have = set(row.staff)
        if have == want:
            unchanged += 1
            continue
        changed += 1
        gone = sorted(have - want)
        conn.execute(
            text("DELETE FROM shift_staff WHERE shift_id = :s AND staff_id = ANY(:p)"),
            {"s": row.id, "p": gone},
        )
        to_add.extend((int(row.id), p) for p in sorted(want - have))
    for shift_id, person_id in to_add:
        conn.execute(
            text("INSERT INTO shift_staff (shift_id, staff_id) VALUES (:s, :p)"),
            {"s": shift_id, "p": person_id},
        )
    return {
        "shifts": len(planned),
        "created": created,
        "changed": changed,
        "unchanged": unchanged,
        "assignments": len(to_add),
    }
