"""How the command post's records look on the commanders' map: enterprises by their
resumption review, publicity points, disinfection places and the holders of supplies; their
colours, labels, messages of the summary panel, layers and legend entries, which
webapp/map/style.py adds to the town's. Declarations only."""

from __future__ import annotations

from collections.abc import Mapping

from webapp.infra.i18n import N_
from webapp.map.symbols import LegendEntry, MapLayer

ENTERPRISE_COLOURS: Mapping[str, str] = {
    "approved": "#1a9641",
    "conditional": "#a6d96a",
    "refused": "#d7191c",
    "pending": "#fdae61",
}
PUBLICITY_COLOURS: Mapping[str, str] = {"checked": "#2c7fb8", "unchecked": "#e6550d"}
ROUND_COLOURS: Mapping[str, str] = {"done": "#31a354", "overdue": "#de2d26"}
STOCK_COLOURS: Mapping[str, str] = {"ok": "#636363", "low": "#feb24c"}
VALUE_LABELS: dict[str, Mapping[str, str]] = {
    "review": {
        "approved": N_("approved"),
        "conditional": N_("approved with conditions"),
        "refused": N_("refused"),
        "pending": N_("not reviewed yet"),
    },
    "check": {
        "checked": N_("checked in the last 7 days"),
        "unchecked": N_("not checked in 7 days"),
    },
    "round": {"done": N_("disinfected in time"), "overdue": N_("overdue for disinfection")},
    "stock": {"ok": N_("stock at or above thresholds"), "low": N_("below a stock threshold")},
}
MESSAGES: dict[str, str] = {
    "enterprisesApproved": N_("Enterprises approved to resume"),
    "enterprisesPending": N_("Enterprises not reviewed yet"),
    "publicityUnchecked": N_("Publicity points not checked in 7 days"),
    "disinfectionOverdue": N_("Places overdue for disinfection"),
    "suppliesBelow": N_("Units below a stock threshold"),
}
LAYER_TITLES: dict[str, str] = {
    "enterprises": N_("Enterprises by resumption review"),
    "publicity_points": N_("Publicity points"),
    "disinfection_places": N_("Disinfection places"),
    "supply_holders": N_("Supplies below threshold"),
}
LAYERS: tuple[MapLayer, ...] = (
    MapLayer(
        source="enterprises",
        symbol="circle",
        z_index=440,
        style={"color": "#333333", "weight": 1, "fillOpacity": 0.8},
        fields=(
            ("name", N_("Enterprise")),
            ("kind", N_("Kind")),
            ("review", N_("Resumption")),
            ("reviewed_on", N_("Reviewed on")),
            ("staff_total", N_("Staff")),
            ("staff_local", N_("Local staff")),
            ("staff_from_risk_areas", N_("Staff from risk areas")),
            ("village", N_("Village")),
        ),
        colour_by="review",
        colours=ENTERPRISE_COLOURS,
        radius_px=6,
        show=False,
    ),
    MapLayer(
        source="publicity_points",
        symbol="circle",
        z_index=445,
        style={"weight": 3, "fillOpacity": 0.9},
        fields=(
            ("kind", N_("Publicity")),
            ("content", N_("Content")),
            ("put_up_on", N_("Put up on")),
            ("last_checked_at", N_("Last checked")),
            ("check", N_("Check")),
            ("village", N_("Village")),
        ),
        colour_by="check",
        colours=PUBLICITY_COLOURS,
        stroke_by_colour=True,
        radius_px=5,
        show=False,
    ),
    MapLayer(
        source="disinfection_places",
        symbol="circle",
        z_index=450,
        style={"color": "#333333", "weight": 1, "fillOpacity": 0.85},
        fields=(
            ("name", N_("Place")),
            ("kind", N_("Kind")),
            ("rounds_per_day", N_("Rounds a day")),
            ("last_round_at", N_("Last round")),
            ("due_at", N_("Due")),
            ("round", N_("Disinfection")),
            ("village", N_("Village")),
        ),
        colour_by="round",
        colours=ROUND_COLOURS,
        radius_px=5,
        show=False,
    ),
    MapLayer(
        source="supply_holders",
        symbol="circle",
        z_index=455,
        style={"color": "#333333", "weight": 2, "fillOpacity": 0.9},
        fields=(
            ("name", N_("Unit")),
            ("holder_kind", N_("Kind")),
            ("items_below", N_("Below threshold")),
            ("stock", N_("Stock")),
            ("village", N_("Village")),
        ),
        colour_by="stock",
        colours=STOCK_COLOURS,
        radius_px=7,
        show=False,
    ),
)
"""Enterprises coloured by their resumption review, publicity points by whether they were
checked in the last 7 days (a loudspeaker route is a line), disinfection places by whether a
round is overdue, and the holders of supplies (checkpoints, isolation sites, units at a point
of their village) by whether an item is below its threshold; all off until chosen."""
LEGEND: tuple[LegendEntry, ...] = (
    LegendEntry("bubble", N_("Enterprise approved"), "#333333", ENTERPRISE_COLOURS["approved"]),
    LegendEntry(
        "bubble",
        N_("Enterprise approved with conditions"),
        "#333333",
        ENTERPRISE_COLOURS["conditional"],
    ),
    LegendEntry("bubble", N_("Enterprise refused"), "#333333", ENTERPRISE_COLOURS["refused"]),
    LegendEntry(
        "bubble", N_("Enterprise not reviewed yet"), "#333333", ENTERPRISE_COLOURS["pending"]
    ),
    LegendEntry(
        "bubble",
        N_("Publicity point not checked in 7 days"),
        "#ffffff",
        PUBLICITY_COLOURS["unchecked"],
    ),
    LegendEntry(
        "bubble", N_("Place overdue for disinfection"), "#333333", ROUND_COLOURS["overdue"]
    ),
    LegendEntry("bubble", N_("Unit below a stock threshold"), "#333333", STOCK_COLOURS["low"]),
)
