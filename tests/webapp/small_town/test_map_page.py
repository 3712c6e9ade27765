"""The map page: only local assets, nonces on inline code, its layers and legend, data as
text."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from geodata.maps.layers import LAYERS
from tests.webapp.small_town_data import XSS_CHECKPOINT, XSS_VILLAGE, csp_of
from webapp.infra.offline_assets import is_same_origin, remote_asset_urls

# -- the map page -------------------------------------------------------------------------


class _PageAssets(HTMLParser):
    """The tags of a page that load something, and the nonces of its inline blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_nonces: list[str | None] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "href", "data", "srcset", "poster"):
            value = attributes.get(name)
            if value is not None and tag != "a":
                self.urls.append(value)
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "style" or (tag == "script" and "src" not in attributes):
            self.inline_nonces.append(attributes.get("nonce"))


def test_map_page_loads_only_local_assets(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "http://" not in html
    assert "https://" not in html
    assert remote_asset_urls(html) == []
    page = _PageAssets()
    page.feed(html)
    assert page.urls, "the page links its scripts and stylesheets"
    for url in page.urls:
        assert is_same_origin(url), url
        assert url.startswith("/static/"), url
        with client.get(url) as asset:
            assert asset.status_code == 200, url
    sources = [s["src"] for s in page.scripts if s.get("src")]
    assert sources == [
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
        "/static/map/town-map-figures.js",
        "/static/map/town-map-popups.js",
        "/static/map/town-map-controls.js",
        "/static/map/town-map-symbols.js",
        "/static/map/town-map.js",
    ]
    for unwanted in ("jquery", "bootstrap", "awesome", "fontawesome", "glyphicons"):
        assert unwanted not in html.lower()


def test_map_page_inline_code_carries_the_responses_nonce(client: FlaskClient) -> None:
    response = client.get("/")
    html = response.get_data(as_text=True)
    script_src = csp_of(response)["script-src"].split()
    nonces = [s.removeprefix("'nonce-").removesuffix("'") for s in script_src if "nonce" in s]
    assert len(nonces) == 1
    page = _PageAssets()
    page.feed(html)
    assert page.inline_nonces
    assert set(page.inline_nonces) == {nonces[0]}
    assert (
        client.get("/").headers["Content-Security-Policy"]
        != response.headers["Content-Security-Policy"]
    ), "a new nonce for every response"


def test_map_page_names_its_layers_and_legend(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    for name in LAYERS:
        assert f'"/api/layers/{name}.geojson"' in html
    for label in ("Village boundary", "Entrance open", "Entrance sealed", "Checkpoint staffed"):
        assert label in html
    assert "fitBounds" in html  # the view starts on the town
    assert "L.control.layers" in html
    assert "tileLayer" not in html  # no tile server: the layers draw the town
    assert "openstreetmap.org" not in html


def test_map_page_carries_no_database_text(client: FlaskClient) -> None:
    """Names reach the browser only through the API, where town-map.js inserts them as text."""
    html = client.get("/").get_data(as_text=True)
    for name in (XSS_CHECKPOINT, XSS_VILLAGE, "East Lake Village", "alert("):
        assert name not in html


def test_town_map_script_writes_data_as_text_and_credits_osm(client: FlaskClient) -> None:
    with client.get("/static/map/town-map.js") as response:
        script = response.get_data(as_text=True)
    assert '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors' in (
        script.replace("'", '"')
    )
    assert "innerHTML" not in script
    assert "textContent" in script
    with client.get("/static/map/town-map-popups.js") as response:
        popups = response.get_data(as_text=True)
    assert "innerHTML" not in popups
    assert "textContent" in popups


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/leaflet.css",
        "/static/vendor/leaflet/images/layers.png",
        "/static/vendor/leaflet/images/layers-2x.png",
        "/static/vendor/leaflet/images/marker-icon.png",
        "/static/map/town-map.js",
        "/static/map/town-map.css",
    ],
)
def test_vendored_assets_are_served_with_their_types(client: FlaskClient, path: str) -> None:
    expected = {"js": "javascript", "css": "text/css", "png": "image/png"}[path.rsplit(".", 1)[1]]
    with client.get(path) as response:
        assert response.status_code == 200
        assert expected in (response.mimetype or "")
