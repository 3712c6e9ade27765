"""The map's optional basemap: an XYZ tile URL from WANGGE_BASEMAP_URL, or none.

Without one the map draws the town on a plain light background with village labels. With
one, its origin (and only it) is added to the page's CSP `img-src`, so a tile server on this
machine or the local network can be used; nothing else may be fetched from elsewhere.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, current_app, g

from geodata.errors import ConfigError
from geodata.settings import Settings

_EXTENSION_KEY = "wangge.basemap_url"
_SAFE_URL = re.compile(r"^[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%{}-]+$")


def parse_basemap_url(value: str | None) -> str | None:
    """An http(s) or same-origin URL template holding {z}, {x} and {y}; None for none."""
    if value is None or not value.strip() or value.strip().lower() == "none":
        return None
    url = value.strip()
    parts = urlsplit(url)
    if not _SAFE_URL.match(url) or not all(p in url for p in ("{z}", "{x}", "{y}")):
        raise ConfigError("WANGGE_BASEMAP_URL: an XYZ URL with {z}, {x} and {y}, or none")
    if parts.scheme not in ("http", "https", "") or (parts.scheme and not parts.netloc):
        raise ConfigError("WANGGE_BASEMAP_URL: an http(s) URL or a path on this server")
    if not parts.scheme and (parts.netloc or not url.startswith("/")):
        raise ConfigError("WANGGE_BASEMAP_URL: an http(s) URL or a path on this server")
    return url


def basemap_url() -> str | None:
    found: str | None = current_app.extensions.get(_EXTENSION_KEY)
    return found


def allow_basemap_images() -> None:
    """Let this response's page load the basemap's tiles (see headers.py)."""
    url = basemap_url()
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme:
        g.csp_img_sources = (f"{parts.scheme}://{parts.netloc}",)


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions[_EXTENSION_KEY] = parse_basemap_url(settings.basemap_url)
