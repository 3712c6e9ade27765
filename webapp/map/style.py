"""How the commanders' map looks: colours, the layers and what each shows, labels, messages
and the legend. Declarations only: webapp/map/page.py builds the page from them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from webapp.infra.i18n import N_
from webapp.map import command_post_style as command_post
from webapp.map.symbols import LegendEntry, MapLayer

TITLE = N_("Town map")
MAX_ZOOM = 20
MIN_ZOOM = 3

Translate = Callable[[str], str]

VILLAGE_LINE = "#08519c"
VILLAGE_FILL = "#9ecae1"
GRID_LINE = "#525252"
ROAD_LINE = "#b3aa9b"
BUILDING_FILL = "#bdb5a6"
ENTRANCE_COLOURS: Mapping[str, str] = {
    "open": "#1a9641",
    "sealed": "#d7191c",
    "checkpoint": "#7b3294",
}
CHECKPOINT_COLOURS: Mapping[str, str] = {
    "staffed": "#2166ac",
    "understaffed": "#f4a582",
    "unstaffed": "#b2182b",
    "closed": "#878787",
}
COMPOUND_COLOURS: Mapping[str, str] = {
    "compliant": "#1a9641",
    "breach": "#d7191c",
    "no_open_entrance": "#ff7f00",
}
COVERAGE_CLASSES: tuple[tuple[float, str], ...] = (
    (0.2, "#d7191c"),
    (0.4, "#fdae61"),
    (0.6, "#ffffbf"),
    (0.8, "#a6d96a"),
    (1.01, "#1a9641"),
)
"""(upper bound of the share, colour): the choropleth of screening or reach."""
NO_DATA_COLOUR = "#d9d9d9"
UNSCREENED_COLOUR = "#e6550d"
LEAK_COLOUR = "#ff7f00"
SITE_COLOUR = "#00838f"
PATROL_PALETTE: tuple[str, ...] = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#666666",
)
"""Colours by team (team id modulo the palette), for layers that take one."""
PERIOD_COLOURS: Mapping[str, str] = {"day": "#e6550d", "night": "#3f007d"}
"""Patrol zones and routes take the colour of their time of day."""
UNKNOWN_COLOUR = "#ffffff"

VALUE_LABELS: Mapping[str, Mapping[str, str]] = {
    "state": {
        "open": N_("open"),
        "sealed": N_("sealed"),
        "checkpoint": N_("with checkpoint"),
        "active": N_("active"),
        "closed": N_("closed"),
    },
    "staffing": {
        "staffed": N_("staffed"),
        "understaffed": N_("understaffed"),
        "unstaffed": N_("unstaffed"),
        "closed": N_("closed"),
    },
    "compliance": {
        "compliant": N_("one open entrance (compliant)"),
        "breach": N_("several open entrances (breach)"),
        "no_open_entrance": N_("no open entrance (safety fault)"),
    },
    "closure": {"open": N_("open"), "sealed_managed": N_("sealed, managed")},
    "kind": {
        "village": N_("village"),
        "community": N_("community"),
        "urban_village": N_("urban village"),
        "residential_compound": N_("residential compound"),
        "building_yard": N_("building yard"),
        "village_gate": N_("village gate"),
        "road": N_("road"),
        "compound_gate": N_("compound gate"),
        "monitoring_point": N_("monitoring point"),
    },
    "owner": {"village": N_("village"), "compound": N_("compound")},
    "period": {"day": N_("day"), "night": N_("night")},
}
"""Enumerated values shown in tooltips, by property."""

LAYER_TITLES: Mapping[str, str] = {
    "villages": N_("Villages"),
    "grids": N_("Grids"),
    "roads": N_("Roads"),
    "compounds": N_("Compounds"),
    "patrol_zones": N_("Patrol zones"),
    "patrol_routes": N_("Patrol routes"),
    "entrances": N_("Entrances"),
    "checkpoints": N_("Checkpoints"),
    "isolation_sites": N_("Isolation sites"),
    "leaks": N_("Leaks"),
    "buildings": N_("Buildings"),
    "households": N_("Unscreened households"),
}


TOWN_LAYERS: tuple[MapLayer, ...] = (
    MapLayer(
        source="villages",
        symbol="area",
        z_index=400,
        style={"color": VILLAGE_LINE, "weight": 2, "fillColor": VILLAGE_FILL, "fillOpacity": 0.35},
        fields=(
            ("name", N_("Village")),
            ("code", N_("Code")),
            ("kind", N_("Kind")),
            ("population", N_("Population")),
            ("grid_count", N_("Grids")),
            ("entrances_open", N_("Open entrances")),
            ("entrances_sealed", N_("Sealed entrances")),
            ("entrances_checkpoint", N_("Entrances with a checkpoint")),
            ("checkpoint_count", N_("Checkpoints")),
        ),
        choropleth="village",
        label_by="name",
        searchable=True,
    ),
    MapLayer(
        source="grids",
        symbol="area",
        z_index=410,
        style={
            "color": GRID_LINE,
            "weight": 1,
            "dashArray": "4 3",
            "fillColor": "#ffffff",
            "fillOpacity": 0.05,
        },
        fields=(("code", N_("Grid")), ("name", N_("Name")), ("village", N_("Village"))),
        choropleth="grid",
        searchable=True,
    ),
    MapLayer(
        source="compounds",
        symbol="area",
        z_index=420,
        style={"color": "#333333", "weight": 1, "fillOpacity": 0.55},
        fields=(
            ("name", N_("Compound")),
            ("kind", N_("Kind")),
            ("compliance", N_("Closure")),
            ("open_entrances", N_("Open entrances")),
            ("sealed_entrances", N_("Sealed entrances")),
            ("village", N_("Village")),
        ),
        colour_by="compliance",
        colours=COMPOUND_COLOURS,
        searchable=True,
        min_zoom=14,
    ),
    MapLayer(
        source="patrol_zones",
        symbol="area",
        z_index=415,
        style={"weight": 2, "fillOpacity": 0.12},
        fields=(
            ("name", N_("Patrol zone")),
            ("team", N_("Team")),
            ("period", N_("Time of day")),
            ("village", N_("Village")),
        ),
        colour_by="period",
        colours=PERIOD_COLOURS,
        stroke_by_colour=True,
        dash_by=("period", {"night": "8 5"}),
        show=False,
    ),
    MapLayer(
        source="patrol_routes",
        symbol="line",
        z_index=435,
        style={"weight": 3, "opacity": 0.85},
        fields=(
            ("zone", N_("Patrol zone")),
            ("loop", N_("Loop")),
            ("period", N_("Time of day")),
            ("route_m", N_("Route (m)")),
            ("hours", N_("Hours")),
        ),
        colour_by="period",
        colours=PERIOD_COLOURS,
        stroke_by_colour=True,
        dash_by=("period", {"night": "6 4"}),
        popup=True,
        show=False,
    ),
    MapLayer(
        source="roads",
        symbol="line",
        z_index=430,
        style={"color": ROAD_LINE, "weight": 1.5, "interactive": False},
    ),
    MapLayer(
        source="entrances",
        symbol="entrance",
        z_index=450,
        style={},
        fields=(
            ("name", N_("Entrance")),
            ("state", N_("State")),
            ("since", N_("Since")),
            ("owner", N_("Belongs to")),
            ("compound", N_("Compound")),
            ("village", N_("Village")),
        ),
        colour_by="state",
        colours=ENTRANCE_COLOURS,
        radius_px=7,
        min_zoom=14,
    ),
    MapLayer(
        source="checkpoints",
        symbol="diamond",
        z_index=460,
        style={},
        fields=(
            ("name", N_("Checkpoint")),
            ("kind", N_("Kind")),
            ("state", N_("State")),
            ("staffing", N_("Staffing")),
            ("staff_on_duty", N_("Staff on duty")),
            ("staff_per_shift", N_("Staff per shift")),
            ("radius_m", N_("Reach (m)")),
            ("village", N_("Village")),
            ("entrance", N_("Entrance")),
        ),
        colour_by="staffing",
        colours=CHECKPOINT_COLOURS,
        radius_px=8,
        ring_by="radius_m",
        searchable=True,
    ),
    MapLayer(
        source="isolation_sites",
        symbol="site",
        z_index=465,
        style={},
        fields=(
            ("name", N_("Isolation site")),
            ("beds", N_("Beds")),
            ("beds_used", N_("Beds in use")),
            ("beds_free", N_("Beds free")),
            ("reserve_rooms", N_("Reserve rooms")),
        ),
        radius_px=9,
    ),
)

RESPONSIBLE_LABELS: Mapping[str, str] = {
    "villages": N_("Village secretary"),
    "grids": N_("Grid leader"),
    "compounds": N_("Yard head"),
    "buildings": N_("Building head"),
}
"""The person responsible for each level, by layer: shown in the popup a click opens."""
RESPONSIBLE_STATUS: Mapping[str, str] = {
    "assigned": N_("assigned"),
    "none": N_("none"),
    "retired": N_("none (retired)"),
}
"""What a viewer who may not see people (or a level without anyone) is shown instead."""
BUILDING_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", N_("Name")),
    ("floors", N_("Floors")),
)
PEOPLE_MESSAGES: Mapping[str, str] = {
    "building": N_("Building"),
    "loading": N_("loading…"),
    "outside": N_("not in your grids"),
    "failed": N_("could not be loaded"),
}

LEAK_FIELDS: tuple[tuple[str, str], ...] = (
    ("road_name", N_("Road")),
    ("highway", N_("Road class")),
    ("village", N_("Village")),
    ("grid", N_("Grid")),
)
HOUSEHOLD_FIELDS: tuple[tuple[str, str], ...] = (
    ("unscreened", N_("Not screened in the screening window")),
    ("never_visited", N_("Never visited")),
    ("households", N_("Households")),
)
COVERAGE_FIELDS: tuple[tuple[str, str], ...] = (
    ("households", N_("Households")),
    ("screened_24h", N_("Screened in 24 h")),
    ("screened", N_("Screened in the screening window")),
    ("reached", N_("Within a checkpoint's reach")),
    ("never_visited", N_("Never visited")),
)

MESSAGES: Mapping[str, str] = {
    "search": N_("Find a village, grid, compound or checkpoint"),
    "searchLabel": N_("Search"),
    "noMatch": N_("Nothing found"),
    "asOf": N_("As of"),
    "today": N_("Today"),
    "colourBy": N_("Colour villages and grids by"),
    "screening": N_("Screening (the town's window)"),
    "campaign": N_("Screening campaign"),
    "reach": N_("Checkpoint reach"),
    "fullscreen": N_("Full screen"),
    "menu": N_("Map controls"),
    "summary": N_("Today"),
    "sinceYesterday": N_("Change since yesterday"),
    "leaks": N_("Leaks"),
    "checkpoints_fully_staffed": N_("Checkpoints fully staffed"),
    "layerFailed": N_("A layer could not be loaded:"),
    "coverageFailed": N_("The coverage figures could not be loaded."),
    "share": N_("Share"),
    "language": N_("Language"),
    "zoomIn": N_("Zoom in to see"),
}


LEGEND: tuple[LegendEntry, ...] = (
    LegendEntry("area", N_("Village boundary"), VILLAGE_LINE, VILLAGE_FILL),
    LegendEntry("area", N_("Grid boundary"), GRID_LINE, dash="4 3"),
    LegendEntry("ramp", N_("Share screened (or reached): under 20%"), "#555555", "#d7191c"),
    LegendEntry("ramp", "20–40%", "#555555", "#fdae61"),
    LegendEntry("ramp", "40–60%", "#555555", "#ffffbf"),
    LegendEntry("ramp", "60–80%", "#555555", "#a6d96a"),
    LegendEntry("ramp", N_("80% and over"), "#555555", "#1a9641"),
    LegendEntry("ramp", N_("No households"), "#555555", NO_DATA_COLOUR),
    LegendEntry(
        "area", N_("Compound, one open entrance"), "#333333", COMPOUND_COLOURS["compliant"]
    ),
    LegendEntry(
        "area", N_("Compound, several open entrances"), "#333333", COMPOUND_COLOURS["breach"]
    ),
    LegendEntry(
        "area", N_("Compound, no open entrance"), "#333333", COMPOUND_COLOURS["no_open_entrance"]
    ),
    LegendEntry("area", N_("Patrol zone, day"), PERIOD_COLOURS["day"], PERIOD_COLOURS["day"]),
    LegendEntry(
        "area", N_("Patrol zone, night"), PERIOD_COLOURS["night"], PERIOD_COLOURS["night"], "4 2"
    ),
    LegendEntry("line", N_("Patrol route loop, day"), PERIOD_COLOURS["day"]),
    LegendEntry("line", N_("Patrol route loop, night"), PERIOD_COLOURS["night"], dash="4 2"),
    LegendEntry("line", N_("Road"), ROAD_LINE),
    LegendEntry("area", N_("Building"), "#8c8273", BUILDING_FILL),
    LegendEntry(
        "bubble",
        N_("Households not screened in the screening window"),
        "#ffffff",
        UNSCREENED_COLOUR,
    ),
    LegendEntry("entrance-open", N_("Entrance open"), "#ffffff", ENTRANCE_COLOURS["open"]),
    LegendEntry("entrance-sealed", N_("Entrance sealed"), "#ffffff", ENTRANCE_COLOURS["sealed"]),
    LegendEntry(
        "entrance-checkpoint",
        N_("Entrance with a checkpoint"),
        "#ffffff",
        ENTRANCE_COLOURS["checkpoint"],
    ),
    LegendEntry("diamond", N_("Checkpoint staffed"), "#ffffff", CHECKPOINT_COLOURS["staffed"]),
    LegendEntry(
        "diamond", N_("Checkpoint understaffed"), "#ffffff", CHECKPOINT_COLOURS["understaffed"]
    ),
    LegendEntry("diamond", N_("Checkpoint unstaffed"), "#ffffff", CHECKPOINT_COLOURS["unstaffed"]),
    LegendEntry("diamond", N_("Checkpoint closed"), "#ffffff", CHECKPOINT_COLOURS["closed"]),
    LegendEntry("ring", N_("Checkpoint reach"), CHECKPOINT_COLOURS["staffed"]),
    LegendEntry(
        "warning", N_("Leak: road crossing without a closed entrance"), "#000000", LEAK_COLOUR
    ),
    LegendEntry("site", N_("Isolation site"), "#ffffff", SITE_COLOUR),
)


def translated_legend(translate: Translate) -> list[LegendEntry]:
    return [replace(entry, label=translate(entry.label)) for entry in LEGEND]


# The command post's records (webapp/map/command_post_style.py) after the town's own.
VALUE_LABELS = {**VALUE_LABELS, **command_post.VALUE_LABELS}
MESSAGES = {**MESSAGES, **command_post.MESSAGES}
LAYER_TITLES = {**LAYER_TITLES, **command_post.LAYER_TITLES}
TOWN_LAYERS += command_post.LAYERS
LEGEND += command_post.LEGEND
