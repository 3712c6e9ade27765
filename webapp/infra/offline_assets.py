"""The map page's browser assets, served by this app: Folium's CDN defaults are replaced.

A default Folium page loads Leaflet, jQuery, Bootstrap, Font Awesome and awesome-markers from
four CDNs. This page uses none of Folium's markers, icons or popups, so it needs only Leaflet
(vendored from the npm package, see scripts/vendor_assets.sh) and the app's own script and
stylesheet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import folium

LEAFLET_VERSION = "1.9.4"

SCRIPTS: tuple[tuple[str, str], ...] = (
    ("leaflet", "vendor/leaflet/leaflet.js"),
    ("vectorgrid", "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
    ("town_map_figures", "map/town-map-figures.js"),
    ("town_map_popups", "map/town-map-popups.js"),
    ("town_map_controls", "map/town-map-controls.js"),
    ("town_map_symbols", "map/town-map-symbols.js"),
    ("town_map", "map/town-map.js"),
)
"""(Folium's name for the link, path under static/), in load order."""

STYLESHEETS: tuple[tuple[str, str], ...] = (
    ("leaflet_css", "vendor/leaflet/leaflet.css"),
    ("town_map_css", "map/town-map.css"),
)

_ASSET_URL = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio|embed|object)\b[^>]*?"
    r"\b(?:src|href|data)\s*=\s*[\"']?([^\"'\s>]*)",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"(?:url\(|@import)\s*[\"']?([^\"')\s;]*)", re.IGNORECASE)


def use_local_assets(folium_map: folium.Map, static_url: Callable[[str], str]) -> None:
    """Point this map's links at the app's own files.

    The lists are set on the instance: Folium's class-level lists (shared by every map in the
    process, and changed in place by its `add_js_link`) are left alone.
    """
    folium_map.default_js = [(name, static_url(path)) for name, path in SCRIPTS]
    folium_map.default_css = [(name, static_url(path)) for name, path in STYLESHEETS]


def is_same_origin(url: str) -> bool:
    """True for a path on this server (`/static/...`, `map.css`); False for `//host/` or `x:`."""
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def remote_asset_urls(html: str) -> list[str]:
    """The URLs of scripts, stylesheets, images and CSS imports in `html` not on this server."""
    found = _ASSET_URL.findall(html) + _CSS_URL.findall(html)
    return [url for url in found if not is_same_origin(url)]
