"""The town map: a Folium map of villages, grids, roads, entrances and checkpoints.

The page carries no text from the database. Each layer is fetched by the browser from the
layer API and put on the map as text by static/map/town-map.js; only numbers (the town's
extent) and the constants below are rendered here. That is what makes it safe to give
every script and style block of Folium's output this response's CSP nonce.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import folium
from branca.element import Figure
from markupsafe import Markup

from webapp.bbox import BBox
from webapp.feature_collections import LAYERS
from webapp.fetched_layer import FetchedGeoJson
from webapp.offline_assets import remote_asset_urls, use_local_assets

TITLE = "wangge — town map"
MAX_ZOOM = 20

VILLAGE_LINE = "#08519c"
VILLAGE_FILL = "#9ecae1"
GRID_LINE = "#525252"
ROAD_LINE = "#b3aa9b"
ENTRANCE_COLOURS: Mapping[str, str] = {
    "open": "#1a9641",
    "sealed": "#d7191c",
    "checkpoint": "#7b3294",
}
CHECKPOINT_COLOURS: Mapping[str, str] = {"active": "#2166ac", "closed": "#878787"}
UNKNOWN_COLOUR = "#ffffff"


@dataclass(frozen=True)
class MapLayer:
    """How one layer of feature_collections.LAYERS is drawn and labelled."""

    source: str
    symbol: str
    """"area", "line", "circle" or "diamond"."""
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


TOWN_LAYERS: tuple[MapLayer, ...] = (
    MapLayer(
        source="villages",
        symbol="area",
        z_index=400,
        style={"color": VILLAGE_LINE, "weight": 2, "fillColor": VILLAGE_FILL, "fillOpacity": 0.25},
        fields=(
            ("name", "Village"),
            ("code", "Code"),
            ("kind", "Kind"),
            ("population", "Population"),
            ("grid_count", "Grids"),
            ("entrances_open", "Open entrances"),
            ("entrances_sealed", "Sealed entrances"),
            ("entrances_checkpoint", "Entrances with a checkpoint"),
            ("checkpoint_count", "Checkpoints"),
        ),
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
        fields=(("code", "Grid"), ("name", "Name"), ("village", "Village")),
    ),
    MapLayer(
        source="roads",
        symbol="line",
        z_index=420,
        style={"color": ROAD_LINE, "weight": 1.5, "interactive": False},
    ),
    MapLayer(
        source="entrances",
        symbol="circle",
        z_index=450,
        style={"color": "#222222", "weight": 1, "fillOpacity": 0.95},
        fields=(
            ("name", "Entrance"),
            ("state", "State"),
            ("since", "Since"),
            ("owner", "Belongs to"),
            ("compound", "Compound"),
            ("village", "Village"),
        ),
        colour_by="state",
        colours=ENTRANCE_COLOURS,
        radius_px=5,
    ),
    MapLayer(
        source="checkpoints",
        symbol="diamond",
        z_index=460,
        style={},
        fields=(
            ("name", "Checkpoint"),
            ("kind", "Kind"),
            ("state", "State"),
            ("staff_per_shift", "Staff per shift"),
            ("radius_m", "Radius (m)"),
            ("village", "Village"),
            ("entrance", "Entrance"),
        ),
        colour_by="state",
        colours=CHECKPOINT_COLOURS,
        radius_px=8,
    ),
)


@dataclass(frozen=True)
class LegendEntry:
    symbol: str
    label: str
    stroke: str
    fill: str = "none"
    dash: str | None = None


LEGEND: tuple[LegendEntry, ...] = (
    LegendEntry("area", "Village boundary", VILLAGE_LINE, VILLAGE_FILL),
    LegendEntry("area", "Grid boundary", GRID_LINE, dash="4 3"),
    LegendEntry("line", "Road", ROAD_LINE),
    LegendEntry("circle", "Entrance open", "#222222", ENTRANCE_COLOURS["open"]),
    LegendEntry("circle", "Entrance sealed", "#222222", ENTRANCE_COLOURS["sealed"]),
    LegendEntry("circle", "Entrance with a checkpoint", "#222222", ENTRANCE_COLOURS["checkpoint"]),
    LegendEntry("diamond", "Checkpoint active", "#ffffff", CHECKPOINT_COLOURS["active"]),
    LegendEntry("diamond", "Checkpoint closed", "#ffffff", CHECKPOINT_COLOURS["closed"]),
)


def layer_config(layer: MapLayer, url: str) -> dict[str, object]:
    """What static/map/town-map.js needs to fetch, draw and label one layer."""
    source = LAYERS[layer.source]
    return {
        "name": source.name,
        "title": source.title,
        "url": url,
        "symbol": layer.symbol,
        "pane": f"town-{source.name}",
        "zIndex": layer.z_index,
        "style": dict(layer.style),
        "fields": [list(pair) for pair in layer.fields],
        "colourBy": layer.colour_by,
        "colours": dict(layer.colours),
        "fallbackColour": UNKNOWN_COLOUR,
        "radius": layer.radius_px,
    }


def build_map(
    *,
    extent: BBox | None,
    layer_url: Callable[[str], str],
    static_url: Callable[[str], str],
) -> folium.Map:
    """The Folium map, fitted to `extent`, with no tile layer and only this app's assets."""
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
        FetchedGeoJson(
            layer_config(layer, layer_url(source.name)), name=source.title, show=layer.show
        ).add_to(folium_map)
    folium.LayerControl(collapsed=False).add_to(folium_map)
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
