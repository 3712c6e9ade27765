"""The town map: the page and its GeoJSON layer API, behind one authorisation hook."""

from __future__ import annotations

import math

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from flask_wtf.csrf import generate_csrf

from geodata import params
from geodata.auth.access import Action
from geodata.maps.layers import LAYERS, feature_collection, town_extent
from geodata.records import responsible
from webapp.infra import database
from webapp.infra.basemap import allow_basemap_images, basemap_url
from webapp.infra.headers import csp_nonce
from webapp.infra.i18n import LANGUAGE_NAMES, select_locale
from webapp.infra.policy import principal, requires
from webapp.infra.responses import geojson_response, json_response
from webapp.map.page import build_map, map_markup
from webapp.map.style import TITLE, translated_legend

bp = Blueprint("map", __name__)


def _layer_url(name: str) -> str:
    return url_for("map.layer", name=name)


def _static_url(path: str) -> str:
    return url_for("static", filename=path)


def _tile_url(name: str) -> str:
    """`/tiles/<name>/{z}/{x}/{y}.pbf`: the template Leaflet fills in."""
    return url_for("tiles.tile", layer=name, z=0, x=0, y=0).replace(
        "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
    )


def _responsible_url(name: str) -> str:
    """`/api/layers/<name>/{id}/responsible`: the template the popups fill in."""
    return url_for("map.layer_responsible", name=name, feature_id=0).replace(
        "/0/responsible", "/{id}/responsible"
    )


def _translate(message: str) -> str:
    return gettext(message) if message else message


def _operate() -> dict[str, str]:
    """The command post's API root (ids are appended) and the session's CSRF token."""
    return {"api": f"{request.script_root}/api/v1/", "csrf": generate_csrf()}


@bp.get("/")
@requires(Action.VIEW_MAP)
def index() -> str:
    """The town map page."""
    who = principal()
    folium_map = build_map(
        extent=town_extent(database.connection()),
        layer_url=_layer_url,
        static_url=_static_url,
        tile_url=_tile_url,
        coverage_url=url_for("coverage.api_coverage") if who.can(Action.VIEW_COVERAGE) else None,
        basemap_url=basemap_url(),
        languages=LANGUAGE_NAMES,
        language=select_locale(),
        translate=_translate,
        operate=_operate() if who.can(Action.OPERATE) else None,
        responsible_url=_responsible_url,
        building_url=url_for("map.building_responsible"),
        campaigns_url=url_for("campaigns.list_") if who.can(Action.VIEW_COVERAGE) else None,
    )
    nonce = csp_nonce()
    allow_basemap_images()
    return render_template(
        "map.html",
        title=gettext(TITLE),
        folium_map=map_markup(folium_map, nonce=nonce),
        legend=translated_legend(_translate),
        nonce=nonce,
    )


@bp.get("/api/layers")
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


@bp.get("/api/layers/<name>.geojson")
@requires(Action.VIEW_MAP)
def layer(name: str) -> Response:
    """One layer as an RFC 7946 FeatureCollection; `?bbox=minLon,minLat,maxLon,maxLat` filters.

    `?as_of=` (an ISO date or date-time) replays the layers that change over time.
    """
    source = LAYERS.get(name)
    if source is None:
        abort(404)
    where = params.filters(request.args)
    return geojson_response(
        feature_collection(database.connection(), source, bbox=where.bbox, as_of=where.as_of)
    )


def _private(response: Response) -> Response:
    """Names and phones: kept by no cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/layers/<name>/<int:feature_id>/responsible")
@requires(Action.VIEW_MAP)
def layer_responsible(name: str, feature_id: int) -> Response:
    """The person responsible for one village, grid, compound or building: `role`, `status`
    (assigned, none, retired) and, for a viewer who may see people, `name` and the `phone`
    masked. Out of scope: 404. Naming someone is audited."""
    if name not in responsible.LEVELS:
        abort(404)
    with database.engine().begin() as conn:
        found = responsible.responsible_for(conn, principal(), name, feature_id)
    return _private(json_response(found))


def _point() -> tuple[float, float]:
    """`?at=lon,lat` in degrees, else 400."""
    parts = request.args.get("at", "").split(",")
    try:
        lon, lat = (float(part) for part in parts)
    except ValueError:  # not two parts, or not numbers
        abort(400, "at: lon,lat in degrees")
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        abort(400, "at: lon,lat in degrees")
    return lon, lat


@bp.get("/api/layers/buildings/responsible")
@requires(Action.VIEW_MAP)
def building_responsible() -> Response:
    """`?at=lon,lat`: the building in scope under the point, `{"building": {"id", "name",
    "floors", "head"}}` (`head` as for a layer's object), or `{"building": null}`."""
    lon, lat = _point()
    with database.engine().begin() as conn:
        found = responsible.building_at(conn, principal(), lon, lat)
    return _private(json_response({"building": found}))
