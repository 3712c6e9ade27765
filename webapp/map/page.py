"""The commanders' town map: Folium's Leaflet page with the town's layers and controls.

The page carries no text from the database. Each layer is fetched by the browser from the
layer API, the coverage API or the vector tile endpoint and put on the map as text by
static/map/town-map.js; only numbers (the town's extent), URLs of this app and the
constants below (translated) are rendered here. That is what makes it safe to give every
script and style block of Folium's output this response's CSP nonce.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import folium
from branca.element import Figure
from markupsafe import Markup

from geodata.bbox import BBox
from geodata.maps.layers import LAYERS
from webapp.infra.i18n import N_
from webapp.infra.offline_assets import remote_asset_urls, use_local_assets
from webapp.map.fetched_layer import CommanderControls, FetchedGeoJson, VectorTiles

TITLE = N_("Town map")
MAX_ZOOM = 20

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
"""Patrol zones take a colour by team (team id modulo the palette)."""
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
    "entrances": N_("Entrances"),
    "checkpoints": N_("Checkpoints"),
    "isolation_sites": N_("Isolation sites"),
    "leaks": N_("Leaks"),
    "buildings": N_("Buildings"),
    "households": N_("Unscreened households"),
}


@dataclass(frozen=True)
class MapLayer:
    """How one layer of feature_collections.LAYERS is drawn and labelled."""

    source: str
    symbol: str
    """"area", "line", "circle", "diamond", "entrance" or "site"."""
    z_index: int
    """Of the layer's own pane: areas under lines under points, whatever loads first."""
    style: Mapping[str, object]
    """Leaflet path options."""
    fields: tuple[tuple[str, str], ...] = ()
    """Tooltip rows: (property, label)."""
    colour_by: str | None = None
    colours: Mapping[str, str] = field(default_factory=dict)
    radius_px: int = 0
    show: bool = True
    choropleth: str | None = None
    """"village" or "grid": filled by the coverage API's figures of that level, by code."""
    label_by: str | None = None
    """A property shown as a permanent label (village names on a map without a basemap)."""
    ring_by: str | None = None
    """A property in metres drawn as a ring around the point (checkpoint reach)."""
    palette_by: str | None = None
    """An integer property picking the colour from PATROL_PALETTE."""
    dash_by: tuple[str, Mapping[str, str]] | None = None
    searchable: bool = False
    min_zoom: float | None = None
    """Below this zoom the layer is not fetched; from it on, only the view's box is."""


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
        palette_by="team_id",
        dash_by=("period", {"night": "8 5"}),
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

LEAK_FIELDS: tuple[tuple[str, str], ...] = (
    ("road_name", N_("Road")),
    ("highway", N_("Road class")),
    ("village", N_("Village")),
    ("grid", N_("Grid")),
)
HOUSEHOLD_FIELDS: tuple[tuple[str, str], ...] = (
    ("unscreened", N_("Not screened in 24 h")),
    ("never_visited", N_("Never visited")),
    ("households", N_("Households")),
)
COVERAGE_FIELDS: tuple[tuple[str, str], ...] = (
    ("households", N_("Households")),
    ("screened_24h", N_("Screened in 24 h")),
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
    "screening": N_("Screening (24 h)"),
    "reach": N_("Checkpoint reach"),
    "fullscreen": N_("Full screen"),
    "layerFailed": N_("A layer could not be loaded:"),
    "coverageFailed": N_("The coverage figures could not be loaded."),
    "share": N_("Share"),
    "language": N_("Language"),
    "zoomIn": N_("Zoom in to see"),
}


@dataclass(frozen=True)
class LegendEntry:
    symbol: str
    label: str
    stroke: str
    fill: str = "none"
    dash: str | None = None


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
    LegendEntry("area", N_("Patrol zone, day"), PATROL_PALETTE[0], "none"),
    LegendEntry("area", N_("Patrol zone, night"), PATROL_PALETTE[0], "none", dash="4 2"),
    LegendEntry("line", N_("Road"), ROAD_LINE),
    LegendEntry("area", N_("Building"), "#8c8273", BUILDING_FILL),
    LegendEntry("bubble", N_("Households not screened in 24 h"), "#ffffff", UNSCREENED_COLOUR),
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


def layer_config(layer: MapLayer, url: str, translate: Translate) -> dict[str, object]:
    """What static/map/town-map.js needs to fetch, draw and label one layer."""
    source = LAYERS[layer.source]
    return {
        "name": source.name,
        "title": translate(LAYER_TITLES[source.name]),
        "url": url,
        "source": "geojson",
        "asOf": source.as_of,
        "symbol": layer.symbol,
        "pane": f"town-{source.name}",
        "zIndex": layer.z_index,
        "style": dict(layer.style),
        "fields": [[name, translate(label)] for name, label in layer.fields],
        "values": _value_labels(translate),
        "colourBy": layer.colour_by,
        "colours": dict(layer.colours),
        "fallbackColour": UNKNOWN_COLOUR,
        "radius": layer.radius_px,
        "choropleth": layer.choropleth,
        "labelBy": layer.label_by,
        "ringBy": layer.ring_by,
        "paletteBy": layer.palette_by,
        "palette": list(PATROL_PALETTE) if layer.palette_by else [],
        "dashBy": [layer.dash_by[0], dict(layer.dash_by[1])] if layer.dash_by else None,
        "searchable": layer.searchable,
        "minZoom": layer.min_zoom,
    }


def _value_labels(translate: Translate) -> dict[str, dict[str, str]]:
    return {
        prop: {value: translate(label) for value, label in labels.items()}
        for prop, labels in VALUE_LABELS.items()
    }


def leaks_config(coverage_url: str, translate: Translate) -> dict[str, object]:
    """Leaks: the coverage API's listed items, drawn as warning markers (fetched when shown)."""
    return {
        "name": "leaks",
        "title": translate(LAYER_TITLES["leaks"]),
        "url": coverage_url,
        "source": "coverage-items",
        "items": "leaks",
        "asOf": True,
        "symbol": "warning",
        "pane": "town-leaks",
        "zIndex": 470,
        "style": {},
        "fields": [[name, translate(label)] for name, label in LEAK_FIELDS],
        "values": {},
        "colourBy": None,
        "colours": {},
        "fallbackColour": LEAK_COLOUR,
        "radius": 9,
        "searchable": False,
        "minZoom": None,
    }


def tiles_config(name: str, url: str, translate: Translate) -> dict[str, object]:
    """A vector tile layer of webapp/tiles/views.py."""
    households = name == "households"
    return {
        "name": name,
        "title": translate(LAYER_TITLES[name]),
        "url": url,
        "asOf": households,
        "pane": f"town-{name}-tiles",
        "zIndex": 440 if households else 425,
        "minZoom": 11 if households else 14,
        "fields": [[n, translate(label)] for n, label in HOUSEHOLD_FIELDS] if households else [],
        "fill": UNSCREENED_COLOUR if households else BUILDING_FILL,
        "stroke": "#ffffff" if households else "#8c8273",
    }


def page_config(
    *,
    coverage_url: str,
    basemap_url: str | None,
    languages: Mapping[str, str],
    language: str,
    translate: Translate,
) -> dict[str, object]:
    """The controls: search, as-of date, colour-by switch, full screen, language, basemap."""
    return {
        "coverageUrl": coverage_url,
        "basemapUrl": basemap_url,
        "classes": [list(pair) for pair in COVERAGE_CLASSES],
        "noDataColour": NO_DATA_COLOUR,
        "coverageFields": [[name, translate(label)] for name, label in COVERAGE_FIELDS],
        "messages": {key: translate(text) for key, text in MESSAGES.items()},
        "languages": [[code, name] for code, name in languages.items()],
        "language": language,
    }


def build_map(
    *,
    extent: BBox | None,
    layer_url: Callable[[str], str],
    static_url: Callable[[str], str],
    tile_url: Callable[[str], str] | None = None,
    coverage_url: str | None = None,
    basemap_url: str | None = None,
    languages: Mapping[str, str] | None = None,
    language: str = "en",
    translate: Translate = str,
) -> folium.Map:
    """The Folium map, fitted to `extent`, with no tile layer of Folium's and this app's assets.

    `tile_url(layer)` gives the vector tiles' URL template, `coverage_url` the coverage API;
    without them the map has only the GeoJSON layers.
    """
    folium_map = folium.Map(
        location=None,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        font_size="0.875rem",
        maxZoom=MAX_ZOOM,
        zoomSnap=0.25,  # lets fitBounds fill the window with the town
    )
    use_local_assets(folium_map, static_url)
    if extent is not None:
        folium_map.fit_bounds(extent.as_leaflet_bounds(), max_zoom=MAX_ZOOM - 2)
    for layer in TOWN_LAYERS:
        source = LAYERS[layer.source]
        config = layer_config(layer, layer_url(source.name), translate)
        FetchedGeoJson(config, name=str(config["title"]), show=layer.show).add_to(folium_map)
        if layer.source == "roads" and tile_url is not None:
            for name in ("buildings", "households"):
                tiles = tiles_config(name, tile_url(name), translate)
                VectorTiles(tiles, name=str(tiles["title"])).add_to(folium_map)
    if coverage_url is not None:
        leaks = leaks_config(coverage_url, translate)
        FetchedGeoJson(leaks, name=str(leaks["title"]), show=False).add_to(folium_map)
    folium.LayerControl(collapsed=False).add_to(folium_map)
    if coverage_url is not None:
        CommanderControls(
            page_config(
                coverage_url=coverage_url,
                basemap_url=basemap_url,
                languages=languages or {},
                language=language,
                translate=translate,
            )
        ).add_to(folium_map)
    return folium_map


@dataclass(frozen=True)
class MapMarkup:
    """Folium's output in the three places the page template puts it."""

    head: Markup
    body: Markup
    script: Markup


_INLINE_BLOCK = re.compile(r"<(script|style)\b", re.IGNORECASE)


def _with_nonce(html: str, nonce: str) -> str:
    return _INLINE_BLOCK.sub(lambda m: f'<{m.group(1)} nonce="{nonce}"', html)


def _figure(folium_map: folium.Map) -> Figure:
    figure = folium_map.get_root()
    assert isinstance(figure, Figure)
    return figure


def map_markup(folium_map: folium.Map, *, nonce: str) -> MapMarkup:
    """Render the map once, then take its head, body and script parts, each nonce-tagged.

    Raises RuntimeError if any part links an asset off this server: the page must work with
    no network beyond the app.
    """
    figure = _figure(folium_map)
    figure.render()  # renders every element, which fills the figure's header, html and script
    head = _with_nonce(figure.header.render(), nonce)
    body = figure.html.render()
    script = figure.script.render()
    remote = remote_asset_urls(head + body)
    if remote:
        raise RuntimeError(f"the map page would load assets from elsewhere: {remote}")
    # Folium's output from the constants above and numbers only (see the module docstring).
    return MapMarkup(head=Markup(head), body=Markup(body), script=Markup(script))  # noqa: S704
