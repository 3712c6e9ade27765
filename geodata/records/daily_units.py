"""The units expected to report on a town day: every grid with households, every village,
every combat unit (team of kind `combat_unit` not retired before the day began), named by
their key (grid code, village code, team source id) and kind; the day's bounds and its
clock times (the town settings `report_time`, `summary_time`, `tasks_time`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, text

from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import setting, town_timezone

FIGURES = (
    "households_seen",
    "people_counted",
    "returnees",
    "in_quarantine",
    "fever",
    "missed_checks",
    "checkpoints_staffed",
    "entrances_sealed",
)
KINDS = ("grid", "village", "combat_unit")
PLACE_REACH_DEG = 0.0002
"""About 20 m: a village entrance or checkpoint on a grid's edge belongs to that grid."""


@dataclass(frozen=True)
class Unit:
    """An expected unit of a day: its kind, key and name, its village, and its grids."""

    kind: str
    key: str
    name: str
    village: str
    village_id: int
    grid_ids: tuple[int, ...] = field(default=())
    unit_id: int = 0
    """The row id of the grid, village or team."""

    @property
    def label(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.key}"


def day_bounds(conn: Connection, day: date) -> tuple[datetime, datetime]:
    """The town day's start and end, aware, in the town's zone."""
    zone = town_timezone(conn)
    start = datetime.combine(day, time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)


def clock_time(conn: Connection, day: date, key: str) -> datetime:
    """The moment of the day a clock setting (`report_time`, `summary_time`, `tasks_time`)
    names, in the town's zone."""
    hours, minutes = str(setting(conn, key)).split(":")
    return datetime.combine(day, time(int(hours), int(minutes)), tzinfo=town_timezone(conn))


def expected_units(conn: Connection, day: date) -> list[Unit]:
    """Grids with households, villages, combat units not retired before the day: in this
    order, each by key."""
    start, _ = day_bounds(conn, day)
    villages = conn.execute(
        text(
            "SELECT v.id, v.code, v.name, array(SELECT g.id FROM grids g"
            " WHERE g.village_id = v.id ORDER BY g.id) AS grids FROM villages v ORDER BY v.code"
        )
    ).all()
    by_id = {int(v.id): v for v in villages}
    grids = conn.execute(
        text(
            "SELECT g.id, g.code, coalesce(g.name, g.code) AS name, g.village_id FROM grids g"
            " WHERE EXISTS (SELECT 1 FROM households h WHERE h.grid_id = g.id) ORDER BY g.code"
        )
    ).all()
    teams = conn.execute(
        text(
            "SELECT t.id, t.source_id, t.name, t.village_id FROM teams t"
            " WHERE t.kind = 'combat_unit'"
            " AND (t.retired_at IS NULL OR t.retired_at > :start) ORDER BY t.source_id"
        ),
        {"start": start},
    ).all()
    units = [
        Unit("grid", str(g.code), str(g.name), str(by_id[g.village_id].code),
             int(g.village_id), (int(g.id),), int(g.id))
        for g in grids
    ]  # fmt: skip
    units += [
        Unit("village", str(v.code), str(v.name), str(v.code), int(v.id),
             tuple(int(g) for g in v.grids), int(v.id))
        for v in villages
    ]  # fmt: skip
    units += [
        Unit("combat_unit", str(t.source_id), str(t.name), str(by_id[t.village_id].code),
             int(t.village_id), tuple(int(g) for g in by_id[t.village_id].grids), int(t.id))
        for t in teams
    ]  # fmt: skip
    return units


def find_unit(conn: Connection, day: date, name: str, kind: str | None = None) -> Unit:
    """The expected unit named `name` (`kind:key` or a key alone when one kind has it)."""
    key = name.strip()
    if kind is None and ":" in key and key.split(":", 1)[0] in KINDS:
        kind, key = key.split(":", 1)
    if kind is not None and kind not in KINDS:
        raise RecordRefused(f"unit {name!r}: kind: one of {', '.join(KINDS)}")
    found = [
        u for u in expected_units(conn, day) if u.key == key and (kind is None or u.kind == kind)
    ]
    if not found:
        raise RecordRefused(f"unit {name!r}: not an expected unit on {day.isoformat()}")
    if len(found) > 1:
        kinds = ", ".join(f"{u.kind}:{u.key}" for u in found)
        raise RecordRefused(f"unit {name!r}: several units have this key ({kinds}): name one")
    return found[0]
