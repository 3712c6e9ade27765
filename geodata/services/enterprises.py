"""Risk areas, enterprises and their resumption reviews requested by a principal: risk areas
kept by admins; enterprises added by admins and commanders (their villages); reviews by a
commander of the enterprise's village or an admin; lists for anyone who sees the map, within
their villages (the responsible person's name masked for roles without household access).
Writes are audited."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from geodata.auth import audit
from geodata.auth.access import Action, ForbiddenError, Principal
from geodata.auth.masking import mask_name
from geodata.errors import NotFoundError
from geodata.records import enterprise_reviews, enterprises, risk_areas
from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import town_timezone
from geodata.services.disinfection import villages_of
from geodata.vocab import Role

WRITTEN = {"inserted": "insert", "updated": "update"}
"""The audit action's verb of a write's outcome."""


def _now() -> datetime:
    return datetime.now(UTC)


def town_today(conn: Connection) -> date:
    return _now().astimezone(town_timezone(conn)).date()


def add_risk_area(
    conn: Connection, principal: Principal, code: str, *, name: str, from_day: date,
    until_day: date | None,
) -> int:  # fmt: skip
    principal.require(Action.MANAGE_TOWN)
    new_id = risk_areas.add(conn, code, name=name, from_day=from_day, until_day=until_day,
                            actor=principal.name)  # fmt: skip
    audit.record(conn, actor=principal.name, action="risk_area_add", object_type="risk_area",
                 object_ids=[new_id], row_count=1)  # fmt: skip
    return new_id


def retire_risk_area(conn: Connection, principal: Principal, code: str) -> int:
    principal.require(Action.MANAGE_TOWN)
    area_id = risk_areas.retire(conn, code, at=_now())
    audit.record(conn, actor=principal.name, action="risk_area_retire", object_type="risk_area",
                 object_ids=[area_id], row_count=1)  # fmt: skip
    return area_id


def list_risk_areas(
    conn: Connection, principal: Principal, *, on: date | None = None, retired: bool = False
) -> list[dict[str, Any]]:
    principal.require(Action.VIEW_MAP)
    return risk_areas.listed(conn, on=on, retired=retired)


def _in_scope(conn: Connection, principal: Principal, village_id: int, what: str) -> None:
    villages = villages_of(conn, principal)
    if villages is not None and village_id not in villages:
        raise NotFoundError(f"{what}: not found")


def save_enterprise(
    conn: Connection,
    principal: Principal,
    source_id: str,
    fields: enterprises.EnterpriseFields,
    *,
    new: bool = True,
) -> tuple[str, int]:
    """Add (or, with `new=False`, change) an enterprise of one of the principal's villages;
    changing an unknown one is refused, another village's is not found."""
    principal.require(Action.OPERATE)
    if new:
        outcome, enterprise_id = "inserted", enterprises.add(conn, source_id, fields)
    else:  # an enterprise of the principal's villages, which it may not move out of them
        before = enterprises.ref(conn, source_id, f"enterprise {source_id!r}")
        _in_scope(conn, principal, int(before.village_id), f"enterprise {source_id!r}")
        outcome, enterprise_id = enterprises.upsert(conn, source_id, fields)
    ref = enterprises.ref(conn, source_id, f"enterprise {source_id!r}")
    villages = villages_of(conn, principal)
    if villages is not None and ref.village_id not in villages:
        raise RecordRefused(f"enterprise {source_id!r}: village: not one of your villages")
    if outcome != "unchanged":
        audit.record(conn, actor=principal.name, action=f"enterprise_{WRITTEN[outcome]}",
                     object_type="enterprise", object_ids=[enterprise_id], row_count=1)  # fmt: skip
    return outcome, enterprise_id


def list_enterprises(
    conn: Connection, principal: Principal, *, state: str | None = None
) -> list[dict[str, Any]]:
    principal.require(Action.VIEW_MAP)
    if state is not None and state not in enterprises.STATES:
        raise RecordRefused(
            f"enterprises: state: {state!r}: one of {', '.join(enterprises.STATES)}"
        )
    found = enterprises.listed(conn, villages_of(conn, principal), state=state)
    if not principal.can(Action.VIEW_HOUSEHOLDS):
        for row in found:
            row["responsible"] = mask_name(row["responsible"])
    return found


def review(
    conn: Connection, principal: Principal, enterprise: str, decision: enterprise_reviews.Review
) -> int:
    """A review by a commander of the enterprise's village, or an admin."""
    principal.require(Action.OPERATE)
    if principal.role not in (Role.ADMIN, Role.COMMANDER):
        raise ForbiddenError(f"{principal.role.value} may not review enterprises")
    record = f"review of enterprise {enterprise!r}"
    ref = enterprises.ref(conn, enterprise, record)
    _in_scope(conn, principal, int(ref.village_id), f"enterprise {enterprise!r}")
    review_id = enterprise_reviews.add(conn, ref, decision, reviewer=principal.name,
                                       today=town_today(conn))  # fmt: skip
    audit.record(conn, actor=principal.name, action="enterprise_review", object_type="enterprise",
                 object_ids=[int(ref.id)], row_count=1,
                 detail={"review": review_id, "decision": decision.decision})  # fmt: skip
    return review_id


def reviews(conn: Connection, principal: Principal, enterprise: str) -> dict[str, Any]:
    """The enterprise's state and every review, the latest first."""
    principal.require(Action.VIEW_MAP)
    ref = enterprises.ref(conn, enterprise, f"enterprise {enterprise!r}")
    _in_scope(conn, principal, int(ref.village_id), f"enterprise {enterprise!r}")
    return {
        "enterprise": enterprise,
        "state": ref.state,
        "reviews": enterprise_reviews.history(conn, int(ref.id)),
    }
