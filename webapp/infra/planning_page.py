"""A planner's page over the town map: its template with the town's extent, the basemap,
the page's URLs and its script's texts translated, under the response's CSP nonce."""

from __future__ import annotations

from collections.abc import Mapping

from flask import render_template, url_for
from flask_babel import gettext  # type: ignore[import-untyped]

from geodata.maps.layers import town_extent
from webapp.infra import database
from webapp.infra.basemap import allow_basemap_images, basemap_url
from webapp.infra.headers import csp_nonce


def render_planning_page(
    template: str, title: str, urls: Mapping[str, str], messages: Mapping[str, str]
) -> str:
    """`title` and `messages` untranslated; the villages layer's URL is added to `urls`."""
    extent = town_extent(database.connection())
    nonce = csp_nonce()
    allow_basemap_images()
    return render_template(
        template,
        title=gettext(title),
        nonce=nonce,
        config={
            "bounds": extent.as_leaflet_bounds() if extent is not None else None,
            "basemap": basemap_url(),
            "urls": {**urls, "villages": url_for("map.layer", name="villages")},
            "messages": {key: gettext(message) for key, message in messages.items()},
        },
    )
