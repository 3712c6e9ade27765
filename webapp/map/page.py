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
from dataclasses import dataclass

import folium
from branca.element import Figure
from markupsafe import Markup

from geodata.bbox import BBox
from geodata.maps.layers import LAYERS
from webapp.infra.offline_assets import remote_asset_urls, use_local_assets
from webapp.map.fetched_layer import CommanderControls, FetchedGeoJson, VectorTiles
from webapp.map.style import (
    BUILDING_FIELDS,
    BUILDING_FILL,
    COVERAGE_CLASSES,
    COVERAGE_FIELDS,
    HOUSEHOLD_FIELDS,
    LAYER_TITLES,
    LEAK_COLOUR,
    LEAK_FIELDS,
    MAX_ZOOM,
    MESSAGES,
    MIN_ZOOM,
    NO_DATA_COLOUR,
    PATROL_PALETTE,
    PEOPLE_MESSAGES,
    RESPONSIBLE_LABELS,
    RESPONSIBLE_STATUS,
    TOWN_LAYERS,
    UNKNOWN_COLOUR,
    UNSCREENED_COLOUR,
    VALUE_LABELS,
    Translate,
)
from webapp.map.symbols import MapLayer


def layer_config(
    layer: MapLayer,
    url: str,
    translate: Translate,
    *,
    responsible_url: Callable[[str], str] | None = None,
) -> dict[str, object]:
    """What static/map/town-map.js needs to fetch, draw and label one layer.

    With `responsible_url(layer)` (a URL with `{id}` for the feature's id), a click on a
    village, grid or compound opens a popup naming its responsible person.
    """
    source = LAYERS[layer.source]
    responsible = None
    if responsible_url is not None and source.name in RESPONSIBLE_LABELS:
        responsible = {
            "url": responsible_url(source.name),
            "label": translate(RESPONSIBLE_LABELS[source.name]),
        }
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
        "strokeByColour": layer.stroke_by_colour,
        "popup": layer.popup,
        "palette": list(PATROL_PALETTE) if layer.palette_by else [],
        "dashBy": [layer.dash_by[0], dict(layer.dash_by[1])] if layer.dash_by else None,
        "searchable": layer.searchable,
        "minZoom": layer.min_zoom,
        "responsible": responsible,
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


def people_config(building_url: str, translate: Translate) -> dict[str, object]:
    """What the popups naming responsible people need: labels, the words shown instead of a
    person, and `building_url`, which finds the building under a point (`?at=lon,lat`)."""
    messages = {key: translate(text) for key, text in PEOPLE_MESSAGES.items()}
    return {
        **messages,
        "labels": {name: translate(label) for name, label in RESPONSIBLE_LABELS.items()},
        "status": {key: translate(text) for key, text in RESPONSIBLE_STATUS.items()},
        "buildingUrl": building_url,
        "buildingFields": [[name, translate(label)] for name, label in BUILDING_FIELDS],
    }


def page_config(
    *,
    coverage_url: str,
    basemap_url: str | None,
    languages: Mapping[str, str],
    language: str,
    translate: Translate,
    operate: Mapping[str, str] | None = None,
    building_url: str | None = None,
    campaigns_url: str | None = None,
) -> dict[str, object]:
    """The controls: search, as-of date, colour-by switch, full screen, language, basemap;
    with `operate` (the API's root and the CSRF token), the popups' state-change buttons;
    with `building_url`, the popups' responsible people."""
    return {
        "operate": operate_config(operate, translate) if operate is not None else None,
        "people": people_config(building_url, translate) if building_url is not None else None,
        "coverageUrl": coverage_url,
        "campaignsUrl": campaigns_url,
        "basemapUrl": basemap_url,
        "classes": [list(pair) for pair in COVERAGE_CLASSES],
        "noDataColour": NO_DATA_COLOUR,
        "coverageFields": [[name, translate(label)] for name, label in COVERAGE_FIELDS],
        "messages": {key: translate(text) for key, text in MESSAGES.items()},
        "languages": [[code, name] for code, name in languages.items()],
        "language": language,
    }


OPERATE_MESSAGES = {
    "state": "State",
    "version": "version",
    "planned": "planned",
    "reason": "Reason",
    "responsible": "Responsible (staff id)",
    "effectiveAt": "Effective at (empty: now)",
    "apply": "Apply",
    "done": "Done.",
    "stale": "Changed meanwhile: this is the state now. Choose again.",
    "failed": "The change could not be sent.",
}
OPERATE_TARGETS = {
    "open": "Open",
    "sealed": "Seal",
    "checkpoint": "Make a checkpoint",
    "active": "Activate",
    "closed": "Close",
}


def operate_config(operate: Mapping[str, str], translate: Translate) -> dict[str, object]:
    """What the popups need to change an entrance's or a checkpoint's state."""
    messages: dict[str, object] = {k: translate(v) for k, v in OPERATE_MESSAGES.items()}
    messages["to"] = {k: translate(v) for k, v in OPERATE_TARGETS.items()}
    return {"api": operate["api"], "csrf": operate["csrf"], "messages": messages}


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
    operate: Mapping[str, str] | None = None,
    responsible_url: Callable[[str], str] | None = None,
    building_url: str | None = None,
    campaigns_url: str | None = None,
) -> folium.Map:
    """The Folium map, fitted to `extent`, with no tile layer of Folium's and this app's assets.

    `tile_url(layer)` gives the vector tiles' URL template, `coverage_url` the coverage API;
    without them the map has only the GeoJSON layers. `responsible_url(layer)` (with `{id}`)
    and `building_url` give the popups that name the people responsible (with the controls);
    `campaigns_url`, the screening campaigns the grids can be coloured by.
    """
    folium_map = folium.Map(
        location=None,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        font_size="0.875rem",
        maxZoom=MAX_ZOOM,
        # Set, so that a layer's own minZoom (building tiles from 14) never zooms the map in.
        minZoom=MIN_ZOOM,
        zoomSnap=0.25,  # lets fitBounds fill the window with the town
    )
    use_local_assets(folium_map, static_url)
    if extent is not None:
        folium_map.fit_bounds(extent.as_leaflet_bounds(), max_zoom=MAX_ZOOM - 2)
    for layer in TOWN_LAYERS:
        source = LAYERS[layer.source]
        config = layer_config(
            layer, layer_url(source.name), translate, responsible_url=responsible_url
        )
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
                operate=operate,
                building_url=building_url,
                campaigns_url=campaigns_url,
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
