"""Resumption reviews of an enterprise: the checklist, the decision, the reviewer and the day.
A log: a new review is added beside the earlier ones, none is changed; the latest (by day,
then as recorded) is the enterprise's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geodata.records.refusal import RecordRefused

DECISIONS = ("approved", "conditional", "refused")
CHECKLIST = {
    "risk_staff_cleared": "staff from risk areas quarantined 14 days or tested",
    "masks_in_stock": "masks in stock",
    "disinfectant_in_stock": "disinfectant in stock",
    "canteen_rules": "canteen rules",
    "dormitory_rules": "dormitory rules",
    "health_officer": "an on-site health officer",
}
"""The checklist items and what each means."""


@dataclass(frozen=True, kw_only=True)
class Review:
    decision: str
    checklist: dict[str, bool]
    reviewed_on: date
    conditions: str | None = None


def add(
    conn: Connection,
    enterprise: Any,
    review: Review,
    *,
    reviewer: str,
    today: date,
) -> int:
    """Add a review of `enterprise` (a row of `enterprises.ref`). An approval needs every item
    of the checklist met (an enterprise without staff from risk areas meets the first); a
    conditional one names its conditions; a day after today is refused."""
    record = f"review of enterprise {enterprise.source_id!r}"
    if review.decision not in DECISIONS:
        raise RecordRefused(
            f"{record}: decision: {review.decision!r}: one of {', '.join(DECISIONS)}"
        )
    unknown = sorted(set(review.checklist) - set(CHECKLIST))
    if unknown:
        raise RecordRefused(f"{record}: checklist: {unknown[0]!r}: no such item")
    if review.reviewed_on > today:
        raise RecordRefused(f"{record}: reviewed_on: {review.reviewed_on} is in the future")
    items = {name: bool(review.checklist.get(name, False)) for name in CHECKLIST}
    from_risk = conn.execute(
        text("SELECT coalesce(sum(staff), 0) FROM enterprise_risk_staff WHERE enterprise_id = :e"),
        {"e": enterprise.id},
    ).scalar_one()
    if from_risk == 0:
        items["risk_staff_cleared"] = True
    conditions = (review.conditions or "").strip() or None
    if review.decision == "approved":
        unmet = [name for name, met in items.items() if not met]
        if unmet:
            raise RecordRefused(
                f"{record}: {unmet[0]}: not met ({CHECKLIST[unmet[0]]}): an approval needs every"
                " item of the checklist; approve conditionally or refuse"
            )
    if review.decision == "conditional" and conditions is None:
        raise RecordRefused(f"{record}: conditions: required for a conditional approval")
    return int(
        conn.execute(
            text(
                "INSERT INTO enterprise_reviews (enterprise_id, decision, risk_staff_cleared,"
                " masks_in_stock, disinfectant_in_stock, canteen_rules, dormitory_rules,"
                " health_officer, conditions, reviewer, reviewed_on) VALUES (:e, :d,"
                " :risk_staff_cleared, :masks_in_stock, :disinfectant_in_stock, :canteen_rules,"
                " :dormitory_rules, :health_officer, :c, :by, :on) RETURNING id"
            ),
            {"e": enterprise.id, "d": review.decision, **items, "c": conditions,
             "by": reviewer, "on": review.reviewed_on},
        ).scalar_one()
    )  # fmt: skip


def history(conn: Connection, enterprise_id: int) -> list[dict[str, Any]]:
    """Every review of an enterprise, the latest first."""
    rows = conn.execute(
        text(
            "SELECT id, decision, risk_staff_cleared, masks_in_stock, disinfectant_in_stock,"
            " canteen_rules, dormitory_rules, health_officer, conditions, reviewer, reviewed_on,"
            " recorded_at FROM enterprise_reviews WHERE enterprise_id = :e"
            " ORDER BY reviewed_on DESC, id DESC"
        ),
        {"e": enterprise_id},
    ).mappings()
    return [
        {
            "id": r["id"],
            "decision": r["decision"],
            "checklist": {name: r[name] for name in CHECKLIST},
            "conditions": r["conditions"],
            "reviewer": r["reviewer"],
            "reviewed_on": r["reviewed_on"].isoformat(),
            "recorded_at": r["recorded_at"].isoformat(),
        }
        for r in rows
    ]
