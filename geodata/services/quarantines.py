"""Quarantines through a principal: grid workers (and admins) register them and record
checks in their grids; commanders (and admins) extend them and release them early for their
villages; lists of them are personal data, scoped to the principal's grids and audited.
Quarantines whose end has come are released first, with nobody acting, and audited."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.disclosure.rules import controlled
from geodata.disclosure.snapshots import publish, scope_key
from geodata.disclosure.tables import CountTable, Unit
from geodata.errors import NotFoundError
from geodata.records import quarantines as records
from geodata.records.quarantines import NewQuarantine
from geodata.records.refusal import RecordRefused


def _release_due(conn: Connection, now: datetime) -> None:
    released = records.release_due(conn, now)
    if released:
        audit.record(conn, actor="wangge", action="quarantine_release_due",
                     object_type="quarantine", object_ids=released,
                     row_count=len(released), detail=None)  # fmt: skip


def _own(conn: Connection, principal: Principal, quarantine_id: int) -> dict[str, Any]:
    found = records.get(conn, quarantine_id)
    if found is None or not principal.covers(found["grid_id"]):
        raise NotFoundError(f"quarantine {quarantine_id}: no such quarantine")
    return found


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "grid_id"}


def add(conn: Connection, principal: Principal, new: NewQuarantine) -> dict[str, Any]:
    principal.require(Action.EDIT_HOUSEHOLDS)
    apply_scope(conn, principal)
    try:
        mine = principal.covers(records.resident_grid(conn, new.resident))
    except RecordRefused:
        mine = False
    if not mine:
        raise NotFoundError(f"resident {new.resident!r}: unknown resident")
    made = records.add(conn, new, actor=principal.name)
    audit.record(conn, actor=principal.name, action="quarantine_add", object_type="quarantine",
                 object_ids=[made["id"]], row_count=1,
                 detail={"type": new.type, "reason": new.reason})  # fmt: skip
    return _public(made)


def list_quarantines(
    conn: Connection,
    principal: Principal,
    *,
    status: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    principal.require(Action.VIEW_HOUSEHOLDS)
    apply_scope(conn, principal)
    _release_due(conn, now or datetime.now(UTC))
    rows = [
        r for r in records.list_quarantines(conn, status=status) if principal.covers(r["grid_id"])
    ]
    audit.record(conn, actor=principal.name, action="quarantine_list", object_type="quarantine",
                 object_ids=[r["id"] for r in rows], row_count=len(rows), detail=None)  # fmt: skip
    return [_public(r) for r in rows]


def due(
    conn: Connection, principal: Principal, day: date, *, now: datetime | None = None
) -> dict[str, Any]:
    principal.require(Action.VIEW_HOUSEHOLDS)
    apply_scope(conn, principal)
    moment = now or datetime.now(UTC)
    _release_due(conn, moment)
    report = records.due(conn, day, moment)
    if principal.grid_ids is not None:
        mine = set(records.grid_codes(conn, principal.grid_ids))
        report["checks"] = [c for c in report["checks"] if c["grid"] in mine]
        report["missed_by_grid"] = {g: n for g, n in report["missed_by_grid"].items() if g in mine}
    ids = sorted({c["quarantine"] for c in report["checks"]})
    audit.record(conn, actor=principal.name, action="quarantine_due", object_type="quarantine",
                 object_ids=ids, row_count=len(ids), detail={"date": day.isoformat()})  # fmt: skip
    return report


def check(
    conn: Connection,
    principal: Principal,
    quarantine_id: int,
    *,
    temperature_c: str | float | Decimal,
    at: datetime | None = None,
    key: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Record a check; (the check, True) or, for an idempotency key seen before, the check
    written then and False."""
    principal.require(Action.EDIT_HOUSEHOLDS)
    apply_scope(conn, principal)
    _own(conn, principal, quarantine_id)
    done, created = records.record_check(
        conn, quarantine_id, temperature_c=temperature_c, at=at or datetime.now(UTC),
        by=principal.name, key=key,
    )  # fmt: skip
    if created:
        audit.record(conn, actor=principal.name, action="quarantine_check",
                     object_type="quarantine", object_ids=[quarantine_id], row_count=1,
                     detail=None)  # fmt: skip
    return done, created


def release(
    conn: Connection, principal: Principal, quarantine_id: int, *, reason: str,
    at: datetime | None = None,
) -> bool:  # fmt: skip
    """Release early; False (nothing changed) when it was released already."""
    principal.require(Action.OPERATE)
    apply_scope(conn, principal)
    _own(conn, principal, quarantine_id)
    done = records.release(
        conn, quarantine_id, at=at or datetime.now(UTC), reason=reason, by=principal.name
    )
    if done:
        audit.record(conn, actor=principal.name, action="quarantine_release",
                     object_type="quarantine", object_ids=[quarantine_id], row_count=1,
                     detail=None)  # fmt: skip
    return done


def extend(
    conn: Connection, principal: Principal, quarantine_id: int, *, days: int, reason: str
) -> datetime:
    principal.require(Action.OPERATE)
    apply_scope(conn, principal)
    _own(conn, principal, quarantine_id)
    ends = records.extend(
        conn, quarantine_id, days=days, at=datetime.now(UTC), reason=reason, by=principal.name
    )
    audit.record(conn, actor=principal.name, action="quarantine_extend",
                 object_type="quarantine", object_ids=[quarantine_id], row_count=1,
                 detail={"days": days})  # fmt: skip
    return ends


def alerts(
    conn: Connection, principal: Principal, *, open_only: bool = True
) -> list[dict[str, Any]]:
    """Fever alerts of the principal's grids (audited)."""
    principal.require(Action.VIEW_HOUSEHOLDS)
    apply_scope(conn, principal)
    rows = [r for r in records.alerts(conn, open_only=open_only) if principal.covers(r["grid_id"])]
    audit.record(conn, actor=principal.name, action="fever_alert_list",
                 object_type="fever_alert", object_ids=[r["id"] for r in rows],
                 row_count=len(rows), detail=None)  # fmt: skip
    return [_public(r) for r in rows]


def close_alert(conn: Connection, principal: Principal, alert_id: int, *, action: str) -> bool:
    """Record what was done about a fever alert; False when it was closed already."""
    principal.require(Action.EDIT_HOUSEHOLDS)
    apply_scope(conn, principal)
    try:
        mine = principal.covers(records.alert_grid(conn, alert_id))
    except RecordRefused:
        mine = False
    if not mine:
        raise NotFoundError(f"fever alert {alert_id}: no such alert")
    done = records.close_alert(conn, alert_id, action=action, by=principal.name,
                               at=datetime.now(UTC))  # fmt: skip
    if done:
        audit.record(conn, actor=principal.name, action="fever_alert_close",
                     object_type="fever_alert", object_ids=[alert_id], row_count=1,
                     detail=None)  # fmt: skip
    return done


MISSED_FIGURES = ("checks_due", "missed")


def missed_figures(
    conn: Connection, principal: Principal, day: date, *, now: datetime | None = None
) -> dict[str, Any]:
    """Checks due and missed per grid on a day: exact for those who may see households, else
    through the disclosure rules (counts under 5 withheld with their complements, the rest
    randomly rounded to 5; a closed day frozen when first published)."""
    principal.require(Action.VIEW_COVERAGE)
    apply_scope(conn, principal)
    moment = now or datetime.now(UTC)
    villages: dict[str, str] = dict(
        conn.execute(
            text(
                "SELECT g.code, v.code FROM grids g JOIN villages v ON v.id = g.village_id"
                " WHERE CAST(:s AS bigint[]) IS NULL OR g.id = ANY(:s)"
            ),
            {"s": None if principal.grid_ids is None else sorted(principal.grid_ids)},
        ).all()
    )

    def count() -> CountTable:
        exact = records.checks_per_grid(conn, day, moment)
        return CountTable(
            level="grid",
            figures=MISSED_FIGURES,
            units=tuple(
                Unit(key=g, counts=exact.get(g, (0, 0)), group=str(v), grids=(g,))
                for g, v in sorted(villages.items())
            ),
        )

    rows: dict[str, list[int | None]]
    if not controlled(principal):
        table = count()
        rows = {u.key: list(u.counts) for u in table.units}
        disclosure = "exact"
    else:
        scope = scope_key(principal.grid_ids)
        _, published = publish(conn, name="quarantine_checks", figures=MISSED_FIGURES,
                               scope=scope, day=day, count=count)  # fmt: skip
        rows = {k: list(v) for k, v in published.items()}
        disclosure = "published"
    return {
        "date": day.isoformat(),
        "disclosure": disclosure,
        "grids": [{"grid": g, "checks_due": v[0], "missed": v[1]} for g, v in sorted(rows.items())],
    }
