"""The daily rhythm through a principal.

Reports are read by those who may see households (admins, commanders, grid workers), scoped
to the units whose grids are all theirs; planners and analysts are refused (the 18:00 summary
publishes figures for them). A unit's report is confirmed or amended by its responsible
person, the account linked (`wangge users link`) to the staff row that is the grid's leader,
the village's secretary, or (for a combat unit) a member of the unit or its village's
secretary; admins may confirm any unit. Another unit is refused, named. Every confirmation
and amendment is audited (the unit and which figures were corrected, never values about
people: the figures are counts)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, ForbiddenError, Principal
from geodata.auth.rls import apply_scope
from geodata.records import daily_reports as records
from geodata.records.daily_reports import Unit
from geodata.vocab import Role


class NotYourUnitError(ForbiddenError):
    """A report for a unit the principal is not responsible for: HTTP 403, exit code 1."""

    exit_code = 1


def _may_read(principal: Principal) -> None:
    principal.require(Action.VIEW_HOUSEHOLDS)


def _staff_of(conn: Connection, principal: Principal) -> int | None:
    if principal.user_id is None:
        return None
    found = conn.execute(
        text("SELECT staff_id FROM users WHERE id = :u"), {"u": principal.user_id}
    ).scalar_one_or_none()
    return None if found is None else int(found)


def is_responsible(conn: Connection, principal: Principal, unit: Unit) -> bool:
    """Whether the principal confirms this unit's report (admins: every unit)."""
    if principal.role is Role.ADMIN:
        return True
    staff = _staff_of(conn, principal)
    if staff is None:
        return False
    if unit.kind == "grid":
        sql = "SELECT leader_id = :s FROM grids WHERE id = :i"
    elif unit.kind == "village":
        sql = "SELECT secretary_id = :s FROM villages WHERE id = :i"
    else:
        sql = (
            "SELECT EXISTS (SELECT 1 FROM staff s LEFT JOIN teams t ON t.id = s.team_id"
            " WHERE s.id = :s AND s.retired_at IS NULL AND (s.team_id = :i OR t.parent_id = :i))"
            " OR EXISTS (SELECT 1 FROM teams t JOIN villages v ON v.id = t.village_id"
            " WHERE t.id = :i AND v.secretary_id = :s)"
        )
    return bool(conn.execute(text(sql), {"s": staff, "i": unit.unit_id}).scalar())


def _require_responsible(conn: Connection, principal: Principal, unit: Unit) -> None:
    if not is_responsible(conn, principal, unit):
        raise NotYourUnitError(
            f"{unit.label}: not your unit (its report is confirmed by its responsible person)"
        )


TOWN = Principal(name="daily figures", role=Role.ADMIN)


def _counts_over_the_town(conn: Connection) -> None:
    """The figures are counts over a unit's grids, whoever asks: computed under the town
    role once the principal's scope and responsibility have been checked (the principal sees
    only units wholly in their scope)."""
    apply_scope(conn, TOWN)


def _now(at: datetime | None) -> datetime:
    return at if at is not None else datetime.now(UTC)


def reports(
    conn: Connection, principal: Principal, day: date, *, at: datetime | None = None
) -> dict[str, Any]:
    """The day's expected units with their status and figures, in the principal's scope."""
    _may_read(principal)
    _counts_over_the_town(conn)
    return records.reports(conn, day, _now(at), grid_ids=principal.grid_ids)


def _audit(conn: Connection, principal: Principal, action: str, made: dict[str, Any],
           day: date, detail: dict[str, Any]) -> None:  # fmt: skip
    audit.record(
        conn,
        actor=principal.name,
        action=action,
        object_type="daily_report",
        object_ids=[made["id"]],
        row_count=1,
        detail={"day": day.isoformat(), "unit": made["unit"], "kind": made["kind"], **detail},
    )


def confirm(
    conn: Connection,
    principal: Principal,
    unit_name: str,
    day: date,
    *,
    kind: str | None = None,
    zero: bool = False,
    note: str | None = None,
    corrections: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Confirm a unit's figures (refused for a unit not the principal's)."""
    _counts_over_the_town(conn)
    unit = records.find_unit(conn, day, unit_name, kind)
    _require_responsible(conn, principal, unit)
    made = records.confirm(conn, unit, day, _now(at), actor=principal.name, zero=zero,
                           note=note, corrections=corrections)  # fmt: skip
    _audit(conn, principal, "daily_report", made, day,
           {"status": made["status"], "corrected": sorted(made["corrections"])})  # fmt: skip
    return made


def amend(
    conn: Connection,
    principal: Principal,
    unit_name: str,
    day: date,
    *,
    kind: str | None = None,
    note: str | None = None,
    corrections: dict[str, Any] | None = None,
    take_in: bool = False,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An audited amendment of a confirmed report (the unit's responsible person)."""
    _counts_over_the_town(conn)
    unit = records.find_unit(conn, day, unit_name, kind)
    _require_responsible(conn, principal, unit)
    made = records.amend(conn, unit, day, _now(at), actor=principal.name, note=note,
                         corrections=corrections, take_in=take_in)  # fmt: skip
    _audit(conn, principal, "daily_amend", made, day,
           {"corrected": sorted((corrections or {}).keys()), "took_in": take_in,
            "amendments": made["amendments"]})  # fmt: skip
    return made


def tasks(
    conn: Connection,
    principal: Principal,
    day: date,
    *,
    worker: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The grid workers' task lists for `day`: the stored snapshot when the clock built one,
    else computed now. A grid worker gets their own list only; commanders the lists of the
    workers of their grids (only the stops and places in those grids); admins all. Reading
    them is audited (how many lists and stops)."""
    from geodata.errors import NotFoundError
    from geodata.records import daily_tasks
    from geodata.records.quarantines import grid_codes

    _may_read(principal)
    if principal.role is Role.GRID_WORKER:
        if worker is not None and worker != principal.name:
            raise NotFoundError(f"worker {worker!r}: no task list of yours")
        worker = principal.name
    scope = None if principal.grid_ids is None else set(grid_codes(conn, principal.grid_ids))
    _counts_over_the_town(conn)
    snapshot = daily_tasks.stored(conn, day)
    now = _now(at)
    if snapshot is None:
        only = principal.grid_ids
        if worker is not None:
            theirs = frozenset(
                int(g)
                for g in conn.execute(
                    text(
                        "SELECT ug.grid_id FROM user_grids ug JOIN users u ON u.id = ug.user_id"
                        " WHERE u.username = :w"
                    ),
                    {"w": worker},
                ).scalars()
            )
            only = theirs if only is None else only & theirs
        built = daily_tasks.build(conn, day, now, grid_ids=only)
        lists, source = built["workers"], "live"
    else:
        lists, source = snapshot, "snapshot"
    shown = []
    for entry in lists:
        if worker is not None and entry["worker"] != worker:
            continue
        if scope is not None:
            if not scope & set(entry["grids"]):
                continue
            entry = {**entry, "stops": [s for s in entry["stops"] if s["grid"] in scope],
                     "look_at": [p for p in entry["look_at"] if p["grid"] in scope]}  # fmt: skip
        shown.append(entry)
    if worker is not None and not shown and principal.role is not Role.GRID_WORKER:
        raise NotFoundError(f"worker {worker!r}: no task list on {day.isoformat()}")
    audit.record(
        conn,
        actor=principal.name,
        action="daily_tasks",
        object_type="daily_task_list",
        row_count=sum(len(e["stops"]) for e in shown),
        detail={"day": day.isoformat(), "lists": len(shown), "source": source},
    )
    return {
        "date": day.isoformat(),
        "source": source,
        "minutes_per_visit": int(_setting(conn, "minutes_per_visit")),
        "walk_m_per_min": round(daily_tasks.WALK_M_PER_MIN, 2),
        "workers": shown,
    }


def _setting(conn: Connection, key: str) -> Any:
    from geodata.records.town_settings import setting

    return setting(conn, key)
