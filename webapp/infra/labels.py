"""People's words for the values the pages show: roles, household statuses, visit results,
quarantine types and reasons, staff roles and team kinds, translated through the catalogue
(`{{ value | label }}` in a template). A value without a label is shown as it is."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask
from flask_babel import gettext  # type: ignore[import-untyped]

from webapp.infra.i18n import N_

LABELS: Mapping[str, str] = {
    # roles
    "admin": N_("Administrator"),
    "commander": N_("Commander"),
    "planner": N_("Planner"),
    "analyst": N_("Analyst"),
    "grid_worker": N_("Grid worker"),
    # households
    "normal": N_("Normal"),
    "home_quarantine": N_("Home quarantine"),
    "vacant": N_("Vacant"),
    # visits
    "seen_all": N_("Everyone seen"),
    "partial": N_("Some seen"),
    "nobody_home": N_("Nobody home"),
    # quarantines
    "home": N_("At home"),
    "observation": N_("Home observation"),
    "concentrated": N_("Concentrated isolation"),
    "returnee": N_("Returnee"),
    "close_contact": N_("Close contact"),
    "fever": N_("Fever"),
    "other": N_("Other"),
    "active": N_("Active"),
    "released": N_("Released"),
    "transferred": N_("Transferred"),
    # people and units
    "village_secretary": N_("Village secretary"),
    "grid_leader": N_("Grid leader"),
    "yard_head": N_("Yard head"),
    "building_head": N_("Building head"),
    "checkpoint_staff": N_("Checkpoint staff"),
    "patrol": N_("Patrol"),
    "combat_unit": N_("Combat unit"),
    "household_visit": N_("Household visit group"),
    "checkpoint": N_("Checkpoint group"),
    "emergency": N_("Emergency group"),
    # daily figures and report statuses
    "households": N_("Households"),
    "households_seen": N_("Households seen"),
    "people_counted": N_("People counted"),
    "returnees": N_("Returnees"),
    "in_quarantine": N_("In quarantine"),
    "missed_checks": N_("Missed checks"),
    "checkpoints_staffed": N_("Checkpoints staffed"),
    "entrances_sealed": N_("Entrances sealed"),
    "screened_share": N_("Share screened"),
    "missing": N_("Not reported"),
    "zero": N_("Nothing to report"),
    "reported": N_("Reported"),
    "late": N_("Reported late"),
    "grid": N_("Grid"),
    "village": N_("Village"),
    "status": N_("Status"),
}


def label(value: object) -> str:
    """The value in people's words, in the page's language."""
    text = str(getattr(value, "value", value))
    found = LABELS.get(text)
    return str(gettext(found)) if found is not None else text


def address(parts: Mapping[str, object] | None) -> str:
    """A household's address as people write it: village, compound, building, unit, room."""
    if not parts:
        return ""
    words = [str(parts[k]) for k in ("village", "compound", "building") if parts.get(k)]
    if parts.get("unit"):
        words.append(str(gettext("Unit %(n)s", n=parts["unit"])))
    if parts.get("room"):
        words.append(str(gettext("Room %(n)s", n=parts["room"])))
    return " · ".join(words)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["address"] = address
