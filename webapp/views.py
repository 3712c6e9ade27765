"""The town map: the page and its GeoJSON layer API, behind one authorisation hook."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for

from geodata.access import Action
from webapp import database
from webapp.bbox import BBoxError, parse_bbox
from webapp.feature_collections import LAYERS, feature_collection, town_extent
from webapp.headers import csp_nonce
from webapp.map_page import LEGEND, TITLE, build_map, map_markup
from webapp.policy import requires
from webapp.responses import geojson_response, json_response

town_map = Blueprint("map", __name__)


def _layer_url(name: str) -> str:
    return url_for("map.layer", name=name)


def _static_url(path: str) -> str:
    return url_for("static", filename=path)


@town_map.get("/")
@requires(Action.VIEW_MAP)
def index() -> str:
    """The town map page."""
    folium_map = build_map(
        extent=town_extent(database.connection()),
        layer_url=_layer_url,
        static_url=_static_url,
    )
    nonce = csp_nonce()
    return render_template(
        "map.html",
        title=TITLE,
        folium_map=map_markup(folium_map, nonce=nonce),
        legend=LEGEND,
        nonce=nonce,
    )


@town_map.get("/api/layers")
@requires(Action.VIEW_MAP)
def layer_index() -> Response:
    return json_response(
        {
            "layers": [
                {
                    "name": source.name,
                    "title": source.title,
                    "geometry_type": source.geometry_type,
                    "properties": list(source.property_names),
                    "url": _layer_url(source.name),
                }
                for source in LAYERS.values()
            ]
        }
    )


@town_map.get("/api/layers/<name>.geojson")
@requires(Action.VIEW_MAP)
def layer(name: str) -> Response:
    """One layer as an RFC 7946 FeatureCollection; `?bbox=minLon,minLat,maxLon,maxLat` filters."""
    source = LAYERS.get(name)
    if source is None:
        abort(404)
    raw_bbox = request.args.get("bbox")
    try:
        bbox = None if raw_bbox is None else parse_bbox(raw_bbox)
    except BBoxError as exc:
        abort(400, description=str(exc))
    return geojson_response(feature_collection(database.connection(), source, bbox=bbox))
