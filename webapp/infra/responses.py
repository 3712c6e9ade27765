"""Response bodies: JSON written by orjson, and GeoJSON passed through as PostGIS composed it."""

from __future__ import annotations

import orjson
from flask import Response

GEOJSON_MEDIA_TYPE = "application/geo+json"


def json_response(data: object, *, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status=status, mimetype="application/json")


def geojson_response(body: str) -> Response:
    """A FeatureCollection already serialised by the database: no parse, no second dump."""
    return Response(body, mimetype=GEOJSON_MEDIA_TYPE)
