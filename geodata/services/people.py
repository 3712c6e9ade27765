"""People, units and shifts managed by a principal holding `manage_people`: admins for the
town, commanders for their villages. The same functions serve `wangge staff|teams|shifts`
and the people page.

Every object is placed in a village first (a person's, a team's, a checkpoint's); one
outside the principal's villages is reported as not found, as elsewhere. Every write and
every list of people (names and phones are personal data) is audited; the records below
(`geodata.records.people`, `.shifts`) hold the rules of each change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.errors import NotFoundError
from geodata.records import patrol_shifts, people, shifts, town_settings
from geodata.records.refusal import RecordRefused
from geodata.vocab import StaffRole, TeamKind

T = TypeVar("T")


# -- scope -----------------------------------------------------------------------------------


def village_codes(conn: Connection, principal: Principal) -> list[str]:
    """The villages a principal manages: any with a grid in scope (all for the town)."""
    rows = conn.execute(
        text(
            "SELECT v.code FROM villages v WHERE CAST(:g AS bigint[]) IS NULL OR EXISTS"
            " (SELECT 1 FROM grids g WHERE g.village_id = v.id AND g.id = ANY(:g))"
            " ORDER BY v.code"
        ),
        {"g": None if principal.grid_ids is None else sorted(principal.grid_ids)},
    ).scalars()
    return list(rows)


def _village_of(conn: Connection, principal: Principal, what: str, village_id: int) -> None:
    if principal.grid_ids is None:
        return
    mine = conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM grids WHERE village_id = :v AND id = ANY(:g))"),
        {"v": village_id, "g": sorted(principal.grid_ids)},
    ).scalar()
    if not mine:
        raise NotFoundError(f"{what}: no such {what.split()[0]}")


def _village(conn: Connection, principal: Principal, code: str) -> None:
    _village_of(conn, principal, f"village {code!r}", people.village_id(conn, code))


def _staff(conn: Connection, principal: Principal, source_id: str) -> Any:
    row = people.staff(conn, source_id)
    _village_of(conn, principal, f"staff {source_id!r}", int(row.village_id))
    return row


def _team(conn: Connection, principal: Principal, source_id: str) -> Any:
    row = people.team(conn, source_id)
    _village_of(conn, principal, f"team {source_id!r}", int(row.village_id))
    return row


def _checkpoint(conn: Connection, principal: Principal, source_id: str) -> Any:
    row = shifts.checkpoint(conn, source_id)
    if row.village_id is None:  # a compound's checkpoint: the town's
        if principal.grid_ids is not None:
            raise NotFoundError(f"checkpoint {source_id!r}: no such checkpoint")
    else:
        _village_of(conn, principal, f"checkpoint {source_id!r}", int(row.village_id))
    return row


def _zone(conn: Connection, principal: Principal, source_id: str) -> Any:
    row = patrol_shifts.zone(conn, source_id)
    if row.village_id is None:  # a zone of the whole town: the town's
        if principal.grid_ids is not None:
            raise NotFoundError(f"patrol zone {source_id!r}: no such patrol zone")
    else:
        _village_of(conn, principal, f"patrol zone {source_id!r}", int(row.village_id))
    return row


def _shift(conn: Connection, principal: Principal, source_id: str) -> Any:
    row = shifts.shift(conn, source_id)
    if row.checkpoint is not None:
        _checkpoint(conn, principal, row.checkpoint)
    else:
        _zone(conn, principal, row.zone)
    return row


def _audited(
    conn: Connection,
    principal: Principal,
    action: str,
    object_type: str,
    work: Callable[[], tuple[T, list[int], dict[str, Any] | None]],
) -> T:
    principal.require(Action.MANAGE_PEOPLE)
    result, ids, detail = work()
    audit.record(conn, actor=principal.name, action=action, object_type=object_type,
                 object_ids=ids, row_count=len(ids), detail=detail)  # fmt: skip
    return result


# -- staff -----------------------------------------------------------------------------------


def add_staff(conn: Connection, principal: Principal, source_id: str, *, name: str,
              role: StaffRole, village: str, team: str | None = None, grid: str | None = None,
              phone: str | None = None) -> int:  # fmt: skip
    def work() -> tuple[int, list[int], None]:
        _village(conn, principal, village)
        new = people.add_staff(conn, source_id, name=name, role=role, village=village,
                               team=team, grid=grid, phone=phone)  # fmt: skip
        return new, [new], None

    return _audited(conn, principal, "staff_add", "staff", work)


def edit_staff(conn: Connection, principal: Principal, source_id: str, *,
               name: str | None = None, role: StaffRole | None = None,
               village: str | None = None, team: str | None = None, grid: str | None = None,
               phone: str | None = None) -> list[str]:  # fmt: skip
    def work() -> tuple[list[str], list[int], dict[str, Any]]:
        row = _staff(conn, principal, source_id)
        if village is not None:
            _village(conn, principal, village)
        fields = people.edit_staff(conn, source_id, name=name, role=role, village=village,
                                   team=team, grid=grid, phone=phone)  # fmt: skip
        return fields, [int(row.id)], {"fields": fields}

    return _audited(conn, principal, "staff_edit", "staff", work)


def retire_staff(conn: Connection, principal: Principal, source_id: str) -> None:
    def work() -> tuple[None, list[int], None]:
        _staff(conn, principal, source_id)
        return None, [people.retire_staff(conn, source_id)], None

    _audited(conn, principal, "staff_retire", "staff", work)


def list_staff(
    conn: Connection, principal: Principal, *, village: str | None = None, retired: bool = False
) -> list[dict[str, Any]]:
    """People of the principal's villages, names and phones included (audited)."""

    def work() -> tuple[list[dict[str, Any]], list[int], None]:
        if village is not None:
            _village(conn, principal, village)
        mine = set(village_codes(conn, principal))
        rows = [
            r
            for r in people.list_staff(conn, village=village, retired=retired)
            if r["village"] in mine
        ]
        return rows, [int(r["id"]) for r in rows], None

    return _audited(conn, principal, "staff_list", "staff", work)


# -- teams -----------------------------------------------------------------------------------


def add_team(conn: Connection, principal: Principal, source_id: str, *, name: str,
             kind: TeamKind, village: str, parent: str | None = None) -> int:  # fmt: skip
    def work() -> tuple[int, list[int], dict[str, Any]]:
        _village(conn, principal, village)
        new = people.add_team(conn, source_id, name=name, kind=kind, village=village,
                              parent=parent)  # fmt: skip
        return new, [new], {"kind": kind.value}

    return _audited(conn, principal, "team_add", "team", work)


def edit_team(conn: Connection, principal: Principal, source_id: str, *,
              name: str | None = None, parent: str | None = None) -> list[str]:  # fmt: skip
    def work() -> tuple[list[str], list[int], dict[str, Any]]:
        row = _team(conn, principal, source_id)
        fields = people.edit_team(conn, source_id, name=name, parent=parent)
        return fields, [int(row.id)], {"fields": fields}

    return _audited(conn, principal, "team_edit", "team", work)


def retire_team(conn: Connection, principal: Principal, source_id: str) -> None:
    def work() -> tuple[None, list[int], None]:
        _team(conn, principal, source_id)
        return None, [people.retire_team(conn, source_id)], None

    _audited(conn, principal, "team_retire", "team", work)


def list_teams(
    conn: Connection, principal: Principal, *, village: str | None = None, retired: bool = False
) -> list[dict[str, Any]]:
    """Teams of the principal's villages (no personal data)."""
    principal.require(Action.VIEW_MAP)
    if village is not None:
        _village(conn, principal, village)
    mine = set(village_codes(conn, principal))
    rows = people.list_teams(conn, village=village, retired=retired)
    return [r for r in rows if r["village"] in mine]


# -- shifts ----------------------------------------------------------------------------------


def add_shift(conn: Connection, principal: Principal, source_id: str, *,
              checkpoint: str | None = None, zone: str | None = None,
              starts_at: datetime, ends_at: datetime) -> int:  # fmt: skip
    """A new shift at a checkpoint or on a patrol zone (one of the two)."""

    def work() -> tuple[int, list[int], None]:
        if (checkpoint is None) == (zone is None):
            raise RecordRefused(f"shift {source_id!r}: give a checkpoint or a patrol zone")
        if checkpoint is not None:
            _checkpoint(conn, principal, checkpoint)
            new = shifts.add_shift(conn, checkpoint, starts_at, ends_at, source_id=source_id)
        elif zone is not None:
            _zone(conn, principal, zone)
            new = patrol_shifts.add_zone_shift(conn, zone, starts_at, ends_at, source_id=source_id)
        return new, [new], None

    return _audited(conn, principal, "shift_add", "checkpoint_shift", work)


def assign(conn: Connection, principal: Principal, shift: str, staff: str) -> bool:
    """Put a person on a shift as planned data entry; False when on it already."""

    def work() -> tuple[bool, list[int], dict[str, Any]]:
        row = _shift(conn, principal, shift)
        _staff(conn, principal, staff)
        return shifts.assign(conn, shift, staff), [int(row.id)], {"staff": staff}

    return _audited(conn, principal, "shift_assign", "checkpoint_shift", work)


def unassign(conn: Connection, principal: Principal, shift: str, staff: str) -> None:
    def work() -> tuple[None, list[int], dict[str, Any]]:
        row = _shift(conn, principal, shift)
        _staff(conn, principal, staff)
        shifts.unassign(conn, shift, staff)
        return None, [int(row.id)], {"staff": staff}

    _audited(conn, principal, "shift_unassign", "checkpoint_shift", work)


def list_shifts(
    conn: Connection,
    principal: Principal,
    *,
    checkpoint: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    """Shifts of the principal's checkpoints and patrol zones, with their people's source
    ids."""
    principal.require(Action.VIEW_MAP)
    if checkpoint is not None:
        _checkpoint(conn, principal, checkpoint)
    rows = shifts.list_shifts(conn, checkpoint_source_id=checkpoint, start=start, end=end)
    if principal.grid_ids is None:
        return rows
    mine = set(
        conn.execute(
            text(
                "SELECT c.source_id FROM checkpoints c JOIN grids g ON g.village_id = c.village_id"
                " WHERE g.id = ANY(:g)"
            ),
            {"g": sorted(principal.grid_ids)},
        ).scalars()
    )
    zones = set(
        conn.execute(
            text(
                "SELECT z.source_id FROM patrol_zones z JOIN grids g ON g.village_id = z.village_id"
                " WHERE g.id = ANY(:g)"
            ),
            {"g": sorted(principal.grid_ids)},
        ).scalars()
    )
    return [r for r in rows if r["checkpoint"] in mine or r["zone"] in zones]


def rota(conn: Connection, principal: Principal, *, checkpoint: str, first_day: date,
         days: int, pattern: str | None, staff: list[str]) -> dict[str, Any]:  # fmt: skip
    """The recurring shifts of a checkpoint with these people rotated over them."""

    def work() -> tuple[dict[str, Any], list[int], dict[str, Any]]:
        cp = _checkpoint(conn, principal, checkpoint)
        for person in staff:
            _staff(conn, principal, person)
        chosen = pattern or str(town_settings.setting(conn, "shift_pattern"))
        report = shifts.make_rota(conn, checkpoint, first_day=first_day, days=days,
                                  pattern=chosen, staff_source_ids=staff)  # fmt: skip
        detail = {k: report[k] for k in ("created", "changed", "unchanged", "assignments")}
        return report, [int(cp.id)], detail

    return _audited(conn, principal, "shift_rota", "checkpoint", work)


def zone_rota(conn: Connection, principal: Principal, *, zone: str, first_day: date, days: int,
              group_a: list[str], group_b: list[str]) -> dict[str, Any]:  # fmt: skip
    """A patrol zone's shifts over its period with groups A and B on duty in turn."""

    def work() -> tuple[dict[str, Any], list[int], dict[str, Any]]:
        row = _zone(conn, principal, zone)
        for person in (*group_a, *group_b):
            _staff(conn, principal, person)
        report = patrol_shifts.make_zone_rota(conn, zone, first_day=first_day, days=days,
                                              group_a=group_a, group_b=group_b)  # fmt: skip
        detail = {k: report[k] for k in ("created", "changed", "unchanged", "assignments")}
        return report, [int(row.id)], detail

    return _audited(conn, principal, "shift_rota", "patrol_zone", work)
